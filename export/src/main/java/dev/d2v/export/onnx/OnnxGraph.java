package dev.d2v.export.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A small builder of ONNX graphs (opset {@value #OPSET}, IR version {@value #IR_VERSION}) over the protobuf classes of
 * the ONNX schema: typed inputs and outputs with symbolic dimensions, fp32 and int64 initializers, and nodes whose
 * outputs get fresh names. It knows no model; {@link EncoderGraph} writes the encoder with it.
 */
public final class OnnxGraph {

    /** ONNX operator set: 17 brings LayerNormalization. */
    public static final int OPSET = 17;
    /** IR version 8 (2021-07-30), the one that goes with opset 17. */
    public static final int IR_VERSION = 8;

    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int INT64 = TensorProto.DataType.INT64_VALUE;
    static final int UINT8 = TensorProto.DataType.UINT8_VALUE;
    static final int INT8 = TensorProto.DataType.INT8_VALUE;
    static final int BOOL = TensorProto.DataType.BOOL_VALUE;

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final Map<String, Integer> counters = new HashMap<>();
    private final Map<String, String> int64Constants = new HashMap<>();
    private final Set<String> initializers = new HashSet<>();

    public OnnxGraph(String name) {
        graph.setName(name);
    }

    /**
     * A graph input.
     *
     * @param dims a number for a fixed dimension, a name (String) for a symbolic one
     */
    public String input(String name, int elemType, Object... dims) {
        graph.addInput(valueInfo(name, elemType, dims));
        return name;
    }

    /** Declares value as a graph output, renamed to name by an Identity node. */
    public String output(String value, String name, int elemType, Object... dims) {
        node("Identity", new String[] {value}, new String[] {name}, Map.of());
        graph.addOutput(valueInfo(name, elemType, dims));
        return name;
    }

    /** An fp32 initializer; a name may be given once (ONNX Runtime keeps the last of two and warns). */
    public String floats(String name, float[] values, long... dims) {
        claim(name);
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(FLOAT).addAllDims(boxed(dims))
                .setRawData(ByteString.copyFrom(b.array())));
        return name;
    }

    /** An int8 initializer. */
    public String int8s(String name, byte[] values, long... dims) {
        claim(name);
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(INT8).addAllDims(boxed(dims))
                .setRawData(ByteString.copyFrom(values)));
        return name;
    }

    /** A 1-D int64 constant (shapes, axes, indices), shared by every node that asks for the same values. */
    public String ints(long... values) {
        String key = Arrays.toString(values);
        return int64Constants.computeIfAbsent(key, k -> {
            String name = fresh("const_i64");
            ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().put(values);
            graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(INT64).addDims(values.length)
                    .setRawData(ByteString.copyFrom(b.array())));
            return name;
        });
    }

    /** A 0-d int64 constant. */
    public String scalarInt(long value) {
        String key = "scalar " + value;
        return int64Constants.computeIfAbsent(key, k -> {
            String name = fresh("const_i64");
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(value);
            graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(INT64)
                    .setRawData(ByteString.copyFrom(b.array())));
            return name;
        });
    }

    /** A 0-d fp32 constant. */
    public String scalar(float value) {
        String key = "scalar f " + Float.floatToIntBits(value);
        return int64Constants.computeIfAbsent(key, k -> floats(fresh("const_f32"), new float[] {value}));
    }

    /** One node with one output, attributes as name to Long, Float, long[] or String; returns the output's name. */
    public String op(String type, Map<String, Object> attributes, String... inputs) {
        String out = fresh(type.toLowerCase(Locale.ROOT));
        node(type, inputs, new String[] {out}, attributes);
        return out;
    }

    /** {@link #op} without attributes. */
    public String op(String type, String... inputs) {
        return op(type, Map.of(), inputs);
    }

    /** One node with n outputs. */
    public String[] opN(String type, int n, Map<String, Object> attributes, String... inputs) {
        String[] outs = new String[n];
        for (int i = 0; i < n; i++) {
            outs[i] = fresh(type.toLowerCase(Locale.ROOT));
        }
        node(type, inputs, outs, attributes);
        return outs;
    }

    /** The model: this graph, opset {@value #OPSET}, with the given metadata. */
    public ModelProto model(String producerVersion, Map<String, String> metadata) {
        ModelProto.Builder m = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("d2v")
                .setProducerVersion(producerVersion)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(graph);
        metadata.forEach((k, v) -> m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return m.build();
    }

    private void node(String type, String[] inputs, String[] outputs, Map<String, Object> attributes) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(type).setName(fresh("n_" + type));
        for (String i : inputs) {
            n.addInput(i);
        }
        for (String o : outputs) {
            n.addOutput(o);
        }
        attributes.forEach((k, v) -> n.addAttribute(attribute(k, v)));
        graph.addNode(n);
    }

    private static AttributeProto attribute(String name, Object v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
        if (v instanceof Long l) {
            a.setType(AttributeProto.AttributeType.INT).setI(l);
        } else if (v instanceof Integer i) {
            a.setType(AttributeProto.AttributeType.INT).setI(i);
        } else if (v instanceof Float f) {
            a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
        } else if (v instanceof Double d) {
            a.setType(AttributeProto.AttributeType.FLOAT).setF(d.floatValue());
        } else if (v instanceof long[] ls) {
            a.setType(AttributeProto.AttributeType.INTS);
            for (long l : ls) {
                a.addInts(l);
            }
        } else if (v instanceof String s) {
            a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
        } else {
            throw new IllegalArgumentException("attribute " + name + ": unsupported value " + v);
        }
        return a.build();
    }

    private static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String s) {
                dim.setDimParam(s);
            } else {
                dim.setDimValue(((Number) d).longValue());
            }
            shape.addDim(dim);
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }

    private void claim(String initializer) {
        if (!initializers.add(initializer)) {
            throw new IllegalStateException("initializer " + initializer + " is already in the graph");
        }
    }

    private String fresh(String prefix) {
        int n = counters.merge(prefix, 1, Integer::sum);
        return prefix + "_" + n;
    }

    private static Iterable<Long> boxed(long[] dims) {
        List<Long> out = new ArrayList<>(dims.length);
        for (long d : dims) {
            out.add(d);
        }
        return out;
    }
}
