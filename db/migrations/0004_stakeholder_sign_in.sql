CREATE TABLE `sign_in_links` (
	`id` text PRIMARY KEY NOT NULL,
	`stakeholder_id` text NOT NULL,
	`delivery_id` integer NOT NULL,
	`hash` text,
	`next` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sign_in_links_delivery_id_unique` ON `sign_in_links` (`delivery_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `sign_in_links_hash_unique` ON `sign_in_links` (`hash`);--> statement-breakpoint
CREATE INDEX `sign_in_links_stakeholder` ON `sign_in_links` (`stakeholder_id`,`created_at`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_sessions` (
	`hash` text PRIMARY KEY NOT NULL,
	`token_id` text,
	`stakeholder_id` text,
	`expires_at` integer NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_sessions`("hash", "token_id", "stakeholder_id", "expires_at", "created_at") SELECT "hash", "token_id", NULL, "expires_at", "created_at" FROM `sessions`;--> statement-breakpoint
DROP TABLE `sessions`;--> statement-breakpoint
ALTER TABLE `__new_sessions` RENAME TO `sessions`;--> statement-breakpoint
PRAGMA foreign_keys=ON;
