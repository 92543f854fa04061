-- 0010: each message sent to a LIS names the code-mapping version it used.
ALTER TABLE lis_messages ADD COLUMN code_map_version INTEGER NOT NULL DEFAULT 0;
