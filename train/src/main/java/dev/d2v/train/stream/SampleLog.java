package dev.d2v.train.stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.d2v.train.run.JsonLinesFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The trained-sample log (trained-samples.jsonl), one line per step, flushed at once:
 * {@code {"step":12,"modality":"image","topic":"d2v.batch.image","partition":0,"offset":12,"loss":0.53,
 * "applied":true,"ids":["s1","s2"]}}. A restarted run appends; after a crash the steps from the last checkpoint on
 * appear twice (retrained): readers keep, per step, the last line.
 */
public final class SampleLog implements Consumer<TrainedStep>, AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final JsonLinesFile out;

    public SampleLog(Path file) throws IOException {
        this.out = new JsonLinesFile(file, "the trained-sample log");
    }

    public static ObjectNode line(TrainedStep s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", s.result().step());
        o.put("modality", s.result().modality().id());
        o.put("topic", s.source().topic());
        o.put("partition", s.source().partition());
        o.put("offset", s.source().offset());
        o.put("loss", s.result().loss());
        o.put("applied", s.result().applied());
        ArrayNode ids = o.putArray("ids");
        s.source().batch().sampleIds().forEach(ids::add);
        return o;
    }

    @Override
    public void accept(TrainedStep s) {
        out.append(line(s));
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
