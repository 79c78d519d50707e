/**
 * Colours through picocolors, which honours NO_COLOR and FORCE_COLOR and
 * turns itself off when stdout is not a terminal.
 */
import pc from 'picocolors';

export const colors = pc;
