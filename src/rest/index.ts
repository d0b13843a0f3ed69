export { createRestRouter } from './router.js';
