/// <reference types="astro/client" />

declare namespace App {
  interface Locals {
    /** The view the renderer shaped for this page (api/site/view-model.ts). */
    page: import('../api/site/view-model.ts').PageView;
  }
}
