package dev.d2v.preprocess.job;

import dev.d2v.preprocess.batch.Sample;
import dev.d2v.preprocess.sample.RawRecord;
import dev.d2v.preprocess.sample.Rejected;
import dev.d2v.preprocess.sample.SampleTransformer;
import dev.d2v.preprocess.sample.TransformSpec;
import java.util.List;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Thin operator over {@link SampleTransformer}: raw record in, its samples out, each with this subtask's batcher key
 * ({@link PreprocessJob.BatchKey}: the key that Flink routes to the batcher subtask of the same index, so that the
 * batcher runs chained in this task's thread); a record that fails goes to
 * the {@link #REJECTED} side output with its stage and error, counted in the metric {@code d2vBadRecords},
 * and the job goes on; an {@code Error} of one record as well ({@code OutOfMemoryError}, {@code StackOverflowError},
 * an error a decoder throws), but not a {@code LinkageError} or another {@code VirtualMachineError}, which no record
 * causes. Metrics: d2vSamples, d2vBadRecords; accumulators "samples" and "rejected" (progress).
 */
final class TransformFunction extends ProcessFunction<RawRecord, Tuple2<Integer, Sample>> {

    static final OutputTag<Rejected> REJECTED = new OutputTag<>("rejected", TypeInformation.of(Rejected.class));

    private final TransformSpec spec;
    private transient SampleTransformer transformer;
    private transient Counter samples;
    private transient Counter bad;
    private transient LongCounter samplesAcc;
    private transient LongCounter rejectedAcc;
    private transient Integer batchKey;

    TransformFunction(TransformSpec spec) {
        this.spec = spec;
    }

    @Override
    public void open(OpenContext ctx) {
        transformer = spec.open();
        var task = getRuntimeContext().getTaskInfo();
        batchKey = PreprocessJob.BatchKey.keysForSubtasks(task.getNumberOfParallelSubtasks(),
                task.getMaxNumberOfParallelSubtasks())[task.getIndexOfThisSubtask()];
        samples = getRuntimeContext().getMetricGroup().counter("d2vSamples");
        bad = getRuntimeContext().getMetricGroup().counter("d2vBadRecords");
        samplesAcc = getRuntimeContext().getLongCounter("samples");
        rejectedAcc = getRuntimeContext().getLongCounter("rejected");
    }

    @Override
    public void processElement(RawRecord raw, Context ctx, Collector<Tuple2<Integer, Sample>> out) {
        List<Sample> result;
        try {
            result = transformer.apply(raw);
        } catch (RuntimeException | Error e) {
            // any per-record failure is that record's problem, not the job's: also an allocation that one record
            // asked for and did not get (the decoders bound their memory, so this is a record too large for the
            // task's heap, and the heap is whole again once its arrays are gone), or an Error a decoder threw on
            // its bytes. Not a broken deployment (a class missing) nor a broken JVM: those would fail every record
            if (e instanceof LinkageError || (e instanceof VirtualMachineError
                    && !(e instanceof OutOfMemoryError) && !(e instanceof StackOverflowError))) {
                throw e;
            }
            ctx.output(REJECTED, Rejected.of(raw, transformer.stage(e), e, System.currentTimeMillis()));
            bad.inc();
            rejectedAcc.add(1);
            return;
        }
        for (Sample s : result) { // outside the try: a downstream failure must fail the job, not the record
            out.collect(Tuple2.of(batchKey, s));
        }
        samples.inc(result.size());
        samplesAcc.add(result.size());
    }
}
