// What `ImageDevice.unitPlaces` says of a unit that is not stored whole at one offset of the file.

/** A unit that reads as zeros. */
export const UNIT_ZERO = -1;
/** A unit that holds data stored otherwise (compressed, in sectors, cut short): `unitRanges` says how. */
export const UNIT_PIECES = -2;
