-- Per-site default of the per-device bandwidth cap of file transfers (bytes/s; null: the server's
-- SENTPULSE_FILES_DEVICE_RATE_BPS). A transfer's own cap overrides it for that transfer.
alter table sites add column files_rate_limit_bps bigint
  check (files_rate_limit_bps between 1024 and 100000000000);
