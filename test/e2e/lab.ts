// The lab lives in src/lab (macvlanctl demo ships it); tests import it from here.
export * from '../../src/lab/lab.js';
