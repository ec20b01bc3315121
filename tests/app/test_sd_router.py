import pytest
from servicedesk.asgi import Request, Response
from servicedesk.models import Role
from servicedesk.router import Mount, Route, Router


async def handler(request: Request) -> Response:
    return Response(200, b"")


async def files(scope, receive, send) -> None:  # noqa: ANN001
    return None


ROUTES = [
    Route("GET", "/api/tickets", handler),
    Route("POST", "/api/tickets", handler, frozenset({Role.CUSTOMER})),
    Route("GET", "/api/tickets/{id}", handler),
    Route("PATCH", "/api/tickets/{id}", handler),
    Route("GET", "/api/tickets/{id}/comments", handler),
    Route("GET", "/api/users/me", handler),
]


@pytest.fixture
def router() -> Router:
    return Router(ROUTES, [Mount("/static", files, "/static/{path}")])


def test_exact_paths(router: Router) -> None:
    match = router.match("POST", "/api/tickets")
    assert match.route is ROUTES[1] and match.template == "/api/tickets" and match.params == {}


def test_templates_bind_integer_ids(router: Router) -> None:
    match = router.match("GET", "/api/tickets/42")
    assert match.route is ROUTES[2] and match.params == {"id": 42}
    assert match.template == "/api/tickets/{id}"
    nested = router.match("GET", "/api/tickets/7/comments")
    assert nested.template == "/api/tickets/{id}/comments" and nested.params == {"id": 7}


@pytest.mark.parametrize(
    "path",
    ["/api/tickets/abc", "/api/tickets/-1", "/api/tickets/1.5", "/api/tickets/" + "9" * 19,
     "/api/tickets/٣", "/api/tickets/", "/api/nope", "/", "/api/tickets/1/comments/2"],
)  # fmt: skip
def test_unknown_paths_are_labelled_other(router: Router, path: str) -> None:
    match = router.match("GET", path)
    assert (match.route, match.mount, match.template) == (None, None, "other")


def test_known_path_with_wrong_method_lists_the_allowed_ones(router: Router) -> None:
    match = router.match("DELETE", "/api/tickets/3")
    assert match.route is None and match.allowed == ("GET", "PATCH")
    assert match.template == "/api/tickets/{id}"


def test_head_falls_back_to_get(router: Router) -> None:
    assert router.match("HEAD", "/api/users/me").route is ROUTES[5]


def test_mounts_match_by_prefix(router: Router) -> None:
    match = router.match("GET", "/static/css/app.css")
    assert match.mount is not None and match.template == "/static/{path}"
    assert router.match("GET", "/staticfoo").template == "other"


def test_duplicate_routes_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate route GET /api/x/{id}"):
        Router([Route("GET", "/api/x/{id}", handler), Route("GET", "/api/x/{id}", handler)])
