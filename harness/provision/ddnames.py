"""How the Datadog agent names the app's Prometheus metrics.

The agent's OpenMetrics check (stack/datadog/conf.d/openmetrics.d/conf.yaml, OpenMetrics V2)
parses /api/metrics with prometheus_client's parser, removes `raw_metric_prefix`, prefixes the
`namespace`, and submits counters as `<name>.count` (without `_total`), gauges as `<name>`, and
histograms as `<name>.bucket` (tag `upper_bound`, cumulative), `<name>.sum` and `<name>.count`.
The naming is read from that file, so the monitors follow the agent's configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from harness import paths
from harness.config.load import read_yaml
from harness.errors import ConfigError

__all__ = ["OPENMETRICS_CONF", "OpenMetricsNaming", "load_openmetrics_naming"]

OPENMETRICS_CONF = Path("datadog/conf.d/openmetrics.d/conf.yaml")


@dataclass(frozen=True)
class OpenMetricsNaming:
    namespace: str
    raw_metric_prefix: str = ""

    def _base(self, family: str) -> str:
        if self.raw_metric_prefix and family.startswith(self.raw_metric_prefix):
            family = family[len(self.raw_metric_prefix):]
        return f"{self.namespace}.{family}"

    def counter(self, name: str) -> str:
        """`servicedesk_http_requests_total` -> `servicedesk.http_requests.count`."""
        return self._base(name.removesuffix("_total")) + ".count"

    def gauge(self, name: str) -> str:
        return self._base(name)

    def histogram(self, name: str, part: str) -> str:
        if part not in ("bucket", "count", "sum"):
            raise ValueError(f"a histogram has bucket, count and sum, not {part!r}")
        return f"{self._base(name)}.{part}"

    @staticmethod
    def upper_bound(seconds: float) -> str:
        """The `upper_bound` tag value of a bucket (the agent writes str(float(le)))."""
        return str(float(seconds) or 0)

    def exposed(self, exposition: str) -> dict[str, set[str]]:
        """Every Datadog metric the agent makes of `exposition`, with its tags (`key:value`)."""
        found: dict[str, set[str]] = {}
        for family in text_string_to_metric_families(exposition):
            for sample in family.samples:
                tags = {f"{k}:{v}" for k, v in sample.labels.items() if k != "le"}
                if family.type == "counter":
                    if not sample.name.endswith("_total"):
                        continue  # `_created` samples are not submitted
                    name = self.counter(family.name)
                elif family.type == "histogram":
                    part = sample.name.rsplit("_", 1)[-1]
                    if part not in ("bucket", "count", "sum"):
                        continue
                    name = self.histogram(family.name, part)
                    if part == "bucket":
                        tags.add(f"upper_bound:{self.upper_bound(float(sample.labels['le']))}")
                elif family.type in ("gauge", "unknown"):
                    name = self.gauge(family.name)
                else:  # info and the rest are left to the check's defaults; not used here
                    continue
                found.setdefault(name, set()).update(tags)
        return found


def load_openmetrics_naming(stack_dir: Path | None = None) -> OpenMetricsNaming:
    path = (stack_dir or paths.stack_dir()) / OPENMETRICS_CONF
    source = str(path)
    doc = read_yaml(path)
    instances = doc.get("instances") if isinstance(doc, dict) else None
    if not isinstance(instances, list) or not instances or not isinstance(instances[0], dict):
        raise ConfigError(source, "instances", "expected a list with the app's check instance")
    instance = instances[0]
    namespace = instance.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        raise ConfigError(source, ["instances", 0, "namespace"], "missing",
                          "the prefix of the app's metrics in Datadog, e.g. servicedesk")
    prefix = instance.get("raw_metric_prefix", "")
    if not isinstance(prefix, str):
        raise ConfigError(source, ["instances", 0, "raw_metric_prefix"], "not a string")
    return OpenMetricsNaming(namespace=namespace, raw_metric_prefix=prefix)
