import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/models.js';

// Every test file leaves no temporary folder behind (after its own afterAll hooks, which run first).
afterAll(() => removeTempDirs());
