-- /metrics counts unfinished commands by state at every scrape: this small index answers it
-- without reading the command history.
create index commands_active on commands (status) where status in ('queued', 'sent', 'running');
