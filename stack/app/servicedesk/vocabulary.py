"""Words the seed draws realistic help-desk tickets from.

Titles are templates with ``{placeholders}`` filled from :data:`FILLERS`; each title belongs to a
category whose detail sentences make up the description.
"""

from __future__ import annotations

__all__ = [
    "AGENT_REPLIES",
    "CLOSING_LINES",
    "COMPANIES",
    "CUSTOMER_REPLIES",
    "FILLERS",
    "FIRST_NAMES",
    "IMPACTS",
    "LAST_NAMES",
    "OPENERS",
    "TICKET_TEMPLATES",
    "TRIED",
]

# (category, title template)
TICKET_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("network", "VPN drops every {minutes} minutes"),
    ("network", "Cannot reach {app} from the {office} office"),
    ("network", "Wi-Fi keeps disconnecting on floor {floor}"),
    ("network", "Very slow file transfers to the {office} share"),
    ("network", "DNS lookups time out for internal hosts"),
    ("network", "VPN client rejects certificate after update"),
    ("billing", "Invoice PDF missing line items"),
    ("billing", "Charged twice for invoice {invoice}"),
    ("billing", "Credit card update fails with error {error}"),
    ("billing", "Tax not applied on invoice {invoice}"),
    ("billing", "Need a copy of invoices for {month}"),
    ("billing", "Refund for cancelled seats not received"),
    ("account", "Password reset email never arrives"),
    ("account", "Locked out after enabling two-factor authentication"),
    ("account", "SSO login loops back to the sign-in page"),
    ("account", "New hire {name} cannot access {app}"),
    ("account", "Please remove access for departed employee"),
    ("account", "Cannot change the account owner"),
    ("app", "{app} crashes when exporting to CSV"),
    ("app", "{app} shows error {error} on save"),
    ("app", "Dashboard takes over {seconds} seconds to load"),
    ("app", "Search in {app} returns no results"),
    ("app", "Attachments larger than {size} MB fail to upload"),
    ("app", "Report totals do not match the export"),
    ("app", "Notifications arrive hours late"),
    ("app", "Calendar sync with {app} stopped working"),
    ("app", "Timezone wrong on scheduled reports"),
    ("hardware", "Laptop will not charge past {percent}%"),
    ("hardware", "Docking station monitors flicker on {os}"),
    ("hardware", "Printer on floor {floor} jams on every job"),
    ("hardware", "Headset microphone not detected in {app}"),
    ("hardware", "Replacement keyboard for {name}"),
    ("email", "Emails to {domain} bounce back"),
    ("email", "Shared mailbox not showing in {app}"),
    ("email", "Outlook search stopped indexing new mail"),
    ("email", "Calendar invites arrive without the meeting link"),
    ("integration", "Webhook deliveries failing with {status}"),
    ("integration", "API rate limit reached at {rate} requests per minute"),
    ("integration", "Salesforce sync duplicates contacts"),
    ("integration", "Slack alerts stopped after workspace migration"),
    ("integration", "API token expired without warning"),
    ("data", "Records missing after import of {count} rows"),
    ("data", "Need data export for compliance audit"),
    ("data", "Customer merged into the wrong account"),
    ("data", "Bulk update changed {count} tickets by mistake"),
)

FILLERS: dict[str, tuple[str, ...]] = {
    "minutes": ("5", "10", "15", "20", "30"),
    "app": (
        "Outlook",
        "Teams",
        "the billing portal",
        "the mobile app",
        "Jira",
        "the CRM",
        "Zoom",
        "SharePoint",
        "the reporting module",
        "the admin console",
    ),
    "office": ("Berlin", "Austin", "Singapore", "London", "Toronto", "São Paulo", "Lyon"),
    "floor": ("2", "3", "4", "5", "7", "11"),
    "invoice": ("INV-20431", "INV-20877", "INV-21102", "INV-19984", "INV-22310"),
    "error": ("500", "E1042", "0x80070005", "ERR_TIMEOUT", "403 Forbidden", "PAYMENT_DECLINED"),
    "month": ("January", "February", "March", "April", "May", "June", "the last quarter"),
    "name": ("Maria Lopez", "Tom Becker", "Aisha Khan", "Lee Wong", "Sven Olsen"),
    "seconds": ("10", "20", "30", "45", "60"),
    "size": ("10", "20", "25", "50"),
    "percent": ("60", "75", "80"),
    "os": ("Windows 11", "macOS Sonoma", "Ubuntu 22.04"),
    "domain": ("partner.example.com", "gmail.com", "our Japanese subsidiary"),
    "status": ("HTTP 502", "HTTP 401", "a TLS handshake error", "timeouts"),
    "rate": ("60", "100", "600"),
    "count": ("1,200", "3,400", "15,000", "250"),
}

OPENERS: dict[str, tuple[str, ...]] = {
    "network": (
        "Since this morning the connection drops and reconnects on its own.",
        "Several colleagues on the same network see the same behaviour.",
        "The problem started after the weekend maintenance window.",
    ),
    "billing": (
        "Our finance team noticed this while reconciling last month's statements.",
        "The amount on the invoice does not match our purchase order.",
        "We need this fixed before our books close at the end of the month.",
    ),
    "account": (
        "The user tried several times and waited more than an hour between attempts.",
        "This blocks their first day of work.",
        "It worked fine until the password policy change last week.",
    ),
    "app": (
        "It happens every time, on different machines and browsers.",
        "The issue appeared right after the latest release.",
        "Smaller exports work, but anything over a few hundred rows fails.",
    ),
    "hardware": (
        "The device is under warranty and about a year old.",
        "We already tried a different cable and power outlet.",
        "It affects a shared device used by the whole team.",
    ),
    "email": (
        "The bounce message mentions a policy rejection.",
        "Nothing changed on our side as far as we know.",
        "Older messages are still there, only new ones are affected.",
    ),
    "integration": (
        "Our logs show the failures began at around 02:00 UTC.",
        "The integration has been running without changes for months.",
        "Retries do not help; the same requests fail again.",
    ),
    "data": (
        "We compared the source file with what ended up in the system.",
        "Auditors need the complete history, including deleted items.",
        "The change was made from the bulk edit screen.",
    ),
}

IMPACTS = (
    "About {count} people are affected.",
    "This blocks our month-end close.",
    "Customer calls are piling up because of it.",
    "It is annoying but there is a workaround.",
    "Our on-call team is paged every time it happens.",
    "Sales cannot send quotes until it is fixed.",
)

TRIED = (
    "We restarted the machine and cleared the cache.",
    "Reinstalling the client did not help.",
    "We checked the status page and saw no incident.",
    "Logging out and back in changes nothing.",
    "The same steps work for a colleague in another team.",
    "We attached screenshots and the error log.",
)

AGENT_REPLIES = (
    "Thanks for reporting this. Could you send the exact time it last happened?",
    "I can reproduce the issue and have escalated it to the platform team.",
    "We rolled out a fix this morning; could you check whether it still happens?",
    "Please try signing out of all sessions and signing in again.",
    "I have applied the credit to your account; it will show on the next invoice.",
    "The certificate on the VPN gateway was renewed; please update the client profile.",
    "Could you share a HAR file or the browser console output?",
    "This is a known issue tracked internally; I will update you when it is deployed.",
    "I reset the account and sent a new activation link.",
    "Closing this as resolved; reply here if the problem comes back.",
)

CUSTOMER_REPLIES = (
    "It happened again at 09:40 today.",
    "Thanks, that fixed it for me but not for my colleague.",
    "Still broken after the update, unfortunately.",
    "Attached the log file you asked for.",
    "Any news on this? It is blocking the whole team.",
    "Confirmed working now, thank you!",
    "We found a workaround for now, lower priority on our side.",
    "The error message changed to a timeout.",
)

CLOSING_LINES = (
    "Thanks in advance.",
    "Please let me know if you need more details.",
    "Happy to jump on a call.",
    "",
)

FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Lars",
    "Mei",
    "Nadia",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
)

LAST_NAMES = (
    "Adeyemi",
    "Bauer",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Vargas",
    "Weber",
    "Yilmaz",
    "Zhang",
)

COMPANIES = (
    "Acme Logistics",
    "Northwind Freight",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Components",
    "Wayne Retail",
    "Tyrell Biotech",
    "Soylent Foods",
    "Hooli Cloud",
    "Vandelay Imports",
    "Pied Piper",
    "Cyberdyne Systems",
    "Wonka Confectionery",
)
