import { ExactReader } from "@bigfile/blockdev";
import { PartitionTableError } from "./errors.ts";
import type { SectorReader } from "./sector_reader.ts";

/**
 * A {@linkcode SectorReader} over a forward-only byte stream (an image on a
 * pipe): sectors must be asked for in increasing order; asking for one behind
 * the stream's position throws {@linkcode PartitionTableError}. The bytes after
 * the last sector read stay available through {@linkcode StreamSectorReader.reader}.
 */
export class StreamSectorReader implements SectorReader {
  readonly size: undefined = undefined;
  readonly sectorSize: number;
  /** The underlying reader, positioned after the last sector read. */
  readonly reader: ExactReader;

  constructor(source: AsyncIterable<Uint8Array>, sectorSize = 512) {
    this.reader = new ExactReader(source);
    this.sectorSize = sectorSize;
  }

  async readSector(lba: number): Promise<Uint8Array> {
    const offset = lba * this.sectorSize;
    const here = this.reader.position;
    if (offset < here) {
      throw new PartitionTableError(
        "ebr-outside",
        `Cannot read sector ${lba} from a stream already at byte ${here}: the EBR chain goes backwards; give the image as a file`,
        offset,
      );
    }
    try {
      await this.reader.skip(offset - here);
      return await this.reader.readExactly(this.sectorSize);
    } catch (error) {
      if (error instanceof PartitionTableError) throw error;
      throw new PartitionTableError(
        "ebr-outside",
        `Cannot read sector ${lba}: the image ends before it`,
        offset,
      );
    }
  }
}
