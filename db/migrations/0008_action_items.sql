CREATE TABLE `action_items` (
	`id` text PRIMARY KEY NOT NULL,
	`incident_id` text NOT NULL,
	`title` text NOT NULL,
	`owner` text NOT NULL,
	`due_on` text NOT NULL,
	`priority` text NOT NULL,
	`status` text NOT NULL,
	`url` text,
	`closed_at` integer,
	`version` integer DEFAULT 1 NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `action_items_incident` ON `action_items` (`incident_id`);--> statement-breakpoint
CREATE INDEX `action_items_status_due` ON `action_items` (`status`,`due_on`);--> statement-breakpoint
CREATE INDEX `action_items_created` ON `action_items` (`created_at`);--> statement-breakpoint
CREATE TABLE `reliability_briefings` (
	`month` text PRIMARY KEY NOT NULL,
	`queued_at` integer NOT NULL
);
--> statement-breakpoint
-- Postmortems kept their action items as JSON text: each becomes a record of its incident, open, at P3 (the
-- middle of the scale: nobody said how urgent it was), owned by whoever the text named.
INSERT INTO `action_items` (`id`, `incident_id`, `title`, `owner`, `due_on`, `priority`, `status`, `created_by`, `created_at`, `updated_at`)
SELECT lower(hex(randomblob(10))), p.`incident_id`, json_extract(j.value, '$.title'), json_extract(j.value, '$.owner'),
       json_extract(j.value, '$.dueDate'), 'P3', 'open', p.`author`, p.`published_at`, p.`published_at`
FROM `postmortems` p, json_each(p.`action_items`) j
WHERE json_extract(j.value, '$.title') IS NOT NULL;--> statement-breakpoint
ALTER TABLE `postmortems` DROP COLUMN `action_items`;