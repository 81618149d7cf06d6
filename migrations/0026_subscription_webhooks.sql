-- axon subscriptions with a webhook_url are delivered through the webhook queue: each such subscription
-- owns one webhooks row (its URL and signing secret) that matches the subscription's channel and
-- filter_type. Unsubscribing deletes the row and, with it, the subscription's pending deliveries.
ALTER TABLE webhooks ADD COLUMN subscription_id INTEGER REFERENCES axon_subscriptions(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX idx_webhooks_subscription ON webhooks(subscription_id) WHERE subscription_id IS NOT NULL;
