/** Kept equal to package.json's version by a unit test; read without loading anything else. */
export const VERSION = '0.1.0';
