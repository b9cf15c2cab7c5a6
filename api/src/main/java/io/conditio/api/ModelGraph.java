package io.conditio.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A read-only view of an ONNX graph: its nodes (in file order) and its initializers, for matching weight files
 * against the module paths that node names carry (an exporter names nodes
 * {@code /down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_q/MatMul}, possibly under a wrapper prefix, and may
 * rename and transpose the weights a node consumes).
 */
public interface ModelGraph {

    /** @return the graph's nodes in file order; unmodifiable */
    List<Node> nodes();

    /** @return the graph's initializers by name, in file order; unmodifiable */
    Map<String, Initializer> initializers();

    /**
     * Reads an initializer's values.
     *
     * @param name an initializer name
     * @return its values as float32, or empty when there is no such initializer or it is not float32
     */
    Optional<FloatTensor> floatValue(String name);

    /**
     * One node.
     *
     * @param name       the node name (may be empty)
     * @param opType     the operator, e.g. {@code MatMul}, {@code Gemm}, {@code Conv}, {@code Gather}
     * @param inputs     input value names
     * @param outputs    output value names
     * @param attributes integer attributes by name (for example Gemm's {@code transB}); others are left out
     */
    record Node(String name, String opType, List<String> inputs, List<String> outputs,
                Map<String, Long> attributes) {
        /**
         * @param name       the node name
         * @param opType     the operator
         * @param inputs     input value names
         * @param outputs    output value names
         * @param attributes integer attributes by name
         */
        public Node {
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
            attributes = Map.copyOf(attributes);
        }
    }

    /**
     * One initializer.
     *
     * @param name     its name
     * @param type     its element type
     * @param shape    its dimensions
     * @param external whether its values are stored in an external data file
     */
    record Initializer(String name, ElementType type, long[] shape, boolean external) {
    }
}
