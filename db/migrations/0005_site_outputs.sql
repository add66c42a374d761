CREATE TABLE `site_outputs` (
	`id` text PRIMARY KEY NOT NULL,
	`rendered_through` integer DEFAULT 0 NOT NULL,
	`generation` integer DEFAULT 0 NOT NULL,
	`release` text,
	`render_key` text,
	`recent` text DEFAULT '[]' NOT NULL,
	`lease_owner` text,
	`lease_until` integer,
	`updated_at` integer NOT NULL
);
