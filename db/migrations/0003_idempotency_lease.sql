ALTER TABLE `idempotency_keys` ADD `content_type` text;--> statement-breakpoint
ALTER TABLE `idempotency_keys` ADD `lease_until` integer;--> statement-breakpoint
CREATE INDEX `idempotency_keys_created_at` ON `idempotency_keys` (`created_at`);