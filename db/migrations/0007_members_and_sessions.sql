CREATE TABLE `members` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer NOT NULL,
	`last_signed_in_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `members_email_unique` ON `members` (`email`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_sign_in_links` (
	`id` text PRIMARY KEY NOT NULL,
	`stakeholder_id` text,
	`member_id` text,
	`delivery_id` integer,
	`hash` text,
	`next` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_sign_in_links`("id", "stakeholder_id", "member_id", "delivery_id", "hash", "next", "expires_at", "used_at", "created_at") SELECT "id", "stakeholder_id", NULL, "delivery_id", "hash", "next", "expires_at", "used_at", "created_at" FROM `sign_in_links`;--> statement-breakpoint
DROP TABLE `sign_in_links`;--> statement-breakpoint
ALTER TABLE `__new_sign_in_links` RENAME TO `sign_in_links`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `sign_in_links_delivery_id_unique` ON `sign_in_links` (`delivery_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `sign_in_links_hash_unique` ON `sign_in_links` (`hash`);--> statement-breakpoint
CREATE INDEX `sign_in_links_stakeholder` ON `sign_in_links` (`stakeholder_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `sign_in_links_member` ON `sign_in_links` (`member_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `sessions` ADD `member_id` text;--> statement-breakpoint
ALTER TABLE `sessions` ADD `last_seen_at` integer;--> statement-breakpoint
CREATE INDEX `sessions_member` ON `sessions` (`member_id`);