/**
 * vitest global setup: builds the product once before any test file runs (buildProduct, as
 * `npm start` does), so that tests starting it as a process (product-process.ts) run the build of
 * the sources under test.
 */
import { buildProduct } from './product-process.js';

export default function setup(): void {
  buildProduct();
}
