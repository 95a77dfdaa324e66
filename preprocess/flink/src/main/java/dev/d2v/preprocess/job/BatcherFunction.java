package dev.d2v.preprocess.job;

import dev.d2v.infra.wire.MinibatchCodec;
import dev.d2v.preprocess.batch.BatchAssembler;
import dev.d2v.preprocess.batch.BatchSpec;
import dev.d2v.preprocess.batch.Sample;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The keyed batcher: per key, the pending samples in Flink state (checkpointed, so a restart loses none);
 * a full batch as soon as it is full; a partial one when the processing-time timer set at the batch's first
 * sample fires ({@link BatchSpec#timeoutMs()}), or at the end of a bounded input (an event-time timer at
 * Long.MAX_VALUE fires on the final watermark). Out: the batch in the minibatch codec.
 * Metrics: d2vBatches, d2vPartialBatches; accumulator "batches".
 */
final class BatcherFunction extends KeyedProcessFunction<Integer, Tuple2<Integer, Sample>, byte[]> {

    private final BatchSpec spec;
    private final MinibatchCodec codec;
    private transient ListState<Sample> pending;
    private transient ValueState<Integer> count;
    private transient ValueState<Long> deadline;
    private transient Counter batches;
    private transient Counter partials;
    private transient LongCounter batchesAcc;

    BatcherFunction(BatchSpec spec, MinibatchCodec codec) {
        this.spec = spec;
        this.codec = codec;
    }

    @Override
    public void open(OpenContext ctx) {
        pending = getRuntimeContext().getListState(new ListStateDescriptor<>("pending", TypeInformation.of(Sample.class)));
        count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.INT));
        deadline = getRuntimeContext().getState(new ValueStateDescriptor<>("deadline", Types.LONG));
        batches = getRuntimeContext().getMetricGroup().counter("d2vBatches");
        partials = getRuntimeContext().getMetricGroup().counter("d2vPartialBatches");
        batchesAcc = getRuntimeContext().getLongCounter("batches");
    }

    @Override
    public void processElement(Tuple2<Integer, Sample> keyed, Context ctx, Collector<byte[]> out) throws Exception {
        int n = count.value() == null ? 0 : count.value();
        if (n == 0) {
            long due = ctx.timerService().currentProcessingTime() + spec.timeoutMs();
            deadline.update(due);
            ctx.timerService().registerProcessingTimeTimer(due);
            ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE); // end of a bounded input
        }
        pending.add(keyed.f1);
        n++;
        if (n >= spec.batchSize()) {
            emit(ctx.timerService(), out);
        } else {
            count.update(n);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<byte[]> out) throws Exception {
        Integer n = count.value();
        if (n == null || n == 0) {
            return;
        }
        boolean endOfInput = ctx.timeDomain() == TimeDomain.EVENT_TIME;
        Long due = deadline.value();
        if (endOfInput || (due != null && timestamp >= due)) {
            emit(ctx.timerService(), out);
        }
    }

    private void emit(TimerService timers, Collector<byte[]> out) throws Exception {
        List<Sample> samples = new ArrayList<>(spec.batchSize());
        for (Sample s : pending.get()) {
            samples.add(s);
        }
        var mb = BatchAssembler.assemble(spec, samples);
        out.collect(codec.encode(mb));
        batches.inc();
        batchesAcc.add(1);
        if (mb.partial()) {
            partials.inc();
        }
        Long due = deadline.value();
        if (due != null) {
            timers.deleteProcessingTimeTimer(due);
        }
        pending.clear();
        count.clear();
        deadline.clear();
    }
}
