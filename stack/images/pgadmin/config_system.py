# pgAdmin's system configuration (read after config.py and config_local.py): server mode with a
# login, data in the /var/lib/pgadmin volume, nothing fetched from outside.
SERVER_MODE = True
DEFAULT_SERVER = "0.0.0.0"
DEFAULT_SERVER_PORT = 5050
DATA_DIR = "/var/lib/pgadmin"
UPGRADE_CHECK_ENABLED = False
LLM_ENABLED = False
# The registered servers' passwords come from the container's environment (servers.json's
# PasswordExecCommand), never stored in pgAdmin's database, so no master password is needed.
ENABLE_SERVER_PASS_EXEC_CMD = True
MASTER_PASSWORD_REQUIRED = False
