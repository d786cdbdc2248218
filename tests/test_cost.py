"""The cost report's counting (effmod.cost) on small hand-made graphs: which ops run in INT8 in a QDQ
graph, which converts fuse away, how float islands are counted. The readers of real artifacts are
tested on real exports (test_quantize, test_bench)."""
from __future__ import annotations

from effmod.cost import CostReport, GraphNode, cost_report


def qdq_conv(name: str, x: str, macs: int = 100, quantize_out: bool = True) -> list[GraphNode]:
    """dequantize -> conv (-> quantize): one INT8 conv in QDQ form, reading quantized ``x``."""
    nodes = [GraphNode("dequantize", "dequantize", (x,), (f"{name}.dq",)),
             GraphNode("conv", "compute", (f"{name}.dq",), (f"{name}.y",), macs=macs)]
    if quantize_out:
        nodes.append(GraphNode("quantize", "quantize", (f"{name}.y",), (f"{name}.q",)))
    return nodes


def test_qdq_chain_is_all_int8_and_its_converts_fuse_away():
    nodes = [GraphNode("quantize", "quantize", ("image",), ("x.q",)),
             *qdq_conv("a", "x.q"), *qdq_conv("b", "a.q"),
             GraphNode("dequantize", "dequantize", ("b.q",), ("out",)),
             GraphNode("softmax", "compute", ("out",), ("probs",))]
    c = cost_report(nodes)
    assert (c.macs, c.int8_macs, c.int8_nodes) == (200, 200, 2)
    assert c.int8_mac_share == 1.0
    # the input quantize (fed by no op) and the last dequantize (read by float softmax) stay; the four
    # between the convs fuse into them
    assert c.converts == 2
    assert c.float_islands == 1 and c.nodes == 2 + 1 + 2  # convs, softmax, converts


def test_a_conv_whose_output_is_not_quantized_runs_in_float():
    nodes = [*qdq_conv("a", "x.q", macs=30), *qdq_conv("b", "a.q", macs=70, quantize_out=False),
             GraphNode("gelu", "compute", ("b.y",), ("g",))]
    c = cost_report(nodes)
    assert c.int8_macs == 30 and round(c.int8_mac_share, 2) == 0.3
    assert c.float_islands == 1  # conv b and the GELU it feeds are one island


def test_float_islands_are_counted_between_int8_ops():
    def island(name: str, x: str) -> list[GraphNode]:  # INT8 value -> float norm -> INT8 value
        return [GraphNode("dequantize", "dequantize", (x,), (f"{name}.dq",)),
                GraphNode("norm", "compute", (f"{name}.dq",), (f"{name}.n",)),
                GraphNode("mul", "compute", (f"{name}.n",), (f"{name}.m",)),
                GraphNode("quantize", "quantize", (f"{name}.m",), (f"{name}.q",))]
    nodes = [*qdq_conv("a", "x"), *island("i", "a.q"), *qdq_conv("b", "i.q"), *island("j", "b.q")]
    c = cost_report(nodes)
    assert c.float_islands == 2 and c.int8_nodes == 2
    assert c.converts == 4  # each island's dequantize and quantize


def test_dtype_says_int8_where_the_graph_is_integer():
    """TFLite-style graphs: the reader states each op's dtype; QDQ inference is not used."""
    nodes = [GraphNode("QUANTIZE", "quantize", ("image",), ("x",)),
             GraphNode("CONV_2D", "compute", ("x",), ("y",), macs=10, int8=True),
             GraphNode("DEQUANTIZE", "dequantize", ("y",), ("yf",)),
             GraphNode("MEAN", "compute", ("yf",), ("m",), int8=False)]
    c = cost_report(nodes, partitions=1, outside_delegate={"MEAN": 1})
    assert c.int8_mac_share == 1.0 and c.converts == 2 and c.float_islands == 1
    assert "1 partition(s)" in c.summary() and "1 op(s) outside the delegate" in c.summary()


def test_an_all_float_graph_is_one_island_with_no_int8():
    nodes = [GraphNode("conv", "compute", ("image",), ("y",), macs=5),
             GraphNode("relu", "compute", ("y",), ("z",))]
    c = cost_report(nodes)
    assert (c.int8_mac_share, c.converts, c.float_islands, c.nodes) == (0.0, 0, 1, 2)


def test_the_report_round_trips_through_its_dict():
    c = cost_report([*qdq_conv("a", "x")], partitions=2, outside_delegate={"mean": 1}, read_from="lowered program")
    d = c.to_dict()
    assert d["int8_mac_share"] == 1.0
    assert CostReport.from_dict(d) == c


def test_batch_matmul_sums_over_the_shared_dim_whatever_the_transposes():
    """TFLite's op listing hides adj_x/adj_y (Core ML's flags may be consts): the summed dim comes from the shapes (attention over 196 tokens,
    32 channels a head: q·kᵀ sums 32, attn·v sums 196)."""
    from effmod.cost import matmul_inner_dim as _inner_dim

    assert _inner_dim([4, 196, 32], [4, 32, 196], [4, 196, 196]) == 32   # q @ k^T, k given transposed
    assert _inner_dim([4, 196, 32], [4, 196, 32], [4, 196, 196]) == 32   # adj_y
    assert _inner_dim([4, 32, 196], [4, 32, 196], [4, 196, 196]) == 32   # adj_x
    assert _inner_dim([4, 196, 196], [4, 196, 32], [4, 196, 32]) == 196  # attn @ v
