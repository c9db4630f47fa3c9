-- The delivery worker's claim (store/sql/webhooks.rs) takes the first due deliveries in the
-- order (next_attempt_at, event_seq) whose object has no earlier pending delivery. The
-- indexes it had also held every delivered row, and none was in that order: PostgreSQL read
-- every due delivery of the queue, looked up each one's earlier delivery of the same object,
-- and sorted them all, every round, so draining a backlog cost about its length squared
-- (issue 21). These two hold pending rows only: the claim walks the first in its order and
-- stops at the batch, and the look-up of an earlier delivery of the same object reads no
-- delivered ones. They replace the two they cover (the queue's gauges, `state <>
-- 'delivered'`, could use neither).
CREATE INDEX webhook_deliveries_pending
    ON webhook_deliveries (next_attempt_at, event_seq) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_pending_by_object
    ON webhook_deliveries (object_id, domain_id, webhook_id, event_seq) WHERE state = 'pending';
DROP INDEX webhook_deliveries_due;
DROP INDEX webhook_deliveries_by_object;
