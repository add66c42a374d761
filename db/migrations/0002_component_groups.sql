CREATE TABLE `component_groups` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `component_groups_name_unique` ON `component_groups` (`name`);--> statement-breakpoint
ALTER TABLE `components` ADD `group_id` text;--> statement-breakpoint
INSERT INTO `component_groups` (`id`, `name`, `updated_at`) SELECT 'grp_' || lower(hex(randomblob(6))), `group_name`, max(`updated_at`) FROM `components` WHERE `group_name` IS NOT NULL GROUP BY `group_name`;--> statement-breakpoint
UPDATE `components` SET `group_id` = (SELECT `id` FROM `component_groups` WHERE `component_groups`.`name` = `components`.`group_name`);--> statement-breakpoint
ALTER TABLE `components` DROP COLUMN `group_name`;