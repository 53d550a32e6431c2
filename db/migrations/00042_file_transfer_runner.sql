-- Which server node drives a transfer, and until when (a lease renewed while it runs): after a restart
-- or in a cluster, exactly one node resumes each transfer; a node that stopped (no server_nodes row)
-- or whose lease ran out hands it over.
alter table file_transfers add column runner_node uuid, add column runner_until timestamptz;
