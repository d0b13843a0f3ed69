export { createRestRouter, restNotFound } from './router.js';
