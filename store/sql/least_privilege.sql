-- govbot on PostgreSQL with a least-privilege application role.
--
-- Run it as the role that owns govbot's tables (the role that runs `govbot db upgrade`),
-- once after creating the application role, and again after every `govbot db upgrade`
-- (new tables get their grants then):
--
--   psql "$OWNER_DATABASE_URL" -v ON_ERROR_STOP=1 -v app_role=govbot_app -v schema=public \
--        -f store/sql/least_privilege.sql
--
-- The application role (the DATABASE_URL of `govbot serve`, `govbot run-jobs`, ...) may
-- read and write the working tables but only INSERT and SELECT the audit trail and the
-- decisions: it cannot UPDATE, DELETE or TRUNCATE them and, not owning them, cannot drop
-- or disable the triggers that refuse those statements (migrations 0001 and 0006) nor
-- change the schema. A statement trigger refuses TRUNCATE of both tables to the owner
-- too. `store.privileges.least_privilege_sql()` renders the same script from Python.

BEGIN;

REVOKE ALL ON ALL TABLES IN SCHEMA :"schema" FROM :"app_role";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA :"schema" FROM :"app_role";
REVOKE CREATE ON SCHEMA :"schema" FROM :"app_role";
GRANT USAGE ON SCHEMA :"schema" TO :"app_role";

-- the working tables: proposals, approvals, outbox, drafts, jobs, digests, ...
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :"schema" TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA :"schema" TO :"app_role";

-- the schema version: read only (the server refuses an unmigrated database)
REVOKE INSERT, UPDATE, DELETE ON TABLE :"schema".alembic_version FROM :"app_role";

-- the audit trail and the decisions: append and read, nothing else
REVOKE UPDATE, DELETE, TRUNCATE ON TABLE :"schema".audit_events, :"schema".decisions FROM :"app_role";

COMMIT;
