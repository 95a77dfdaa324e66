package dev.d2v.ingest;

import dev.d2v.infra.Modality;
import java.io.IOException;
import java.util.Optional;

/**
 * One sample on its way to d2v.raw.&lt;modality&gt;. Bytes are read lazily so that a walk over a large folder
 * holds one file at a time; a read that fails is reported as an unreadable item, not a crash.
 *
 * @param id      stable sample id, the record key ("mnist/train/7/00017")
 * @param source  where it came from, for humans and the dead-letter topic ("file:/data/x.png")
 */
public record RawItem(String id, Modality modality, String contentType, Optional<String> label, Optional<String> split,
                      String source, BytesSupplier bytes) {

    @FunctionalInterface
    public interface BytesSupplier {
        byte[] get() throws IOException;
    }
}
