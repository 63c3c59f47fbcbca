//! Dropping the parts of an ONNX model that compute outputs the pose stage never reads, at load time.
//!
//! The landmark models also predict a 256×256 segmentation mask (`Identity_2`), which runform does not use
//! (MediaPipe's pose graph has `enable_segmentation=false` by default). ONNX Runtime computes every node whatever
//! outputs are fetched, and the mask's decoder runs at full resolution: profiled on the full model (ONNX Runtime
//! 1.31, one thread), the nodes producing 256×256 maps took 6.7 of 15.5 ms per frame. Removing the nodes that only
//! feed unused outputs leaves every other output bit-identical (the same nodes compute them).
//!
//! The model file is edited as protobuf wire format, without an ONNX schema crate: only the fields that name
//! graph edges are read (ModelProto.graph = 7; GraphProto.node = 1, initializer = 5, input = 11, output = 12,
//! value_info = 13; NodeProto.input = 1, output = 2; ValueInfoProto.name = 1; TensorProto.name = 8). Every other
//! byte is copied as is.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use thiserror::Error;

/// The model bytes are not the ONNX protobuf this code understands.
#[derive(Debug, Error)]
#[error("cannot read the ONNX model's graph ({0})")]
pub struct PruneError(String);

const WIRE_VARINT: u8 = 0;
const WIRE_FIXED64: u8 = 1;
const WIRE_LENGTH_DELIMITED: u8 = 2;
const WIRE_FIXED32: u8 = 5;

const MODEL_GRAPH: u64 = 7;
const GRAPH_NODE: u64 = 1;
const GRAPH_INITIALIZER: u64 = 5;
const GRAPH_INPUT: u64 = 11;
const GRAPH_OUTPUT: u64 = 12;
const GRAPH_VALUE_INFO: u64 = 13;
const NODE_INPUT: u64 = 1;
const NODE_OUTPUT: u64 = 2;
const VALUE_INFO_NAME: u64 = 1;
const TENSOR_NAME: u64 = 8;

/// One field of a protobuf message: its number, wire type, the bytes of the whole field (tag included) and of
/// its payload.
struct Field {
    number: u64,
    wire_type: u8,
    whole: Range<usize>,
    payload: Range<usize>,
}

fn varint(bytes: &[u8], pos: &mut usize) -> Result<u64, PruneError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*pos).ok_or_else(|| PruneError("truncated varint".into()))?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(PruneError("varint longer than 64 bits".into()))
}

/// The bytes of `range` in `bytes`. Ranges come from [`fields`] of the same bytes, which checks them against its
/// length, so the error only guards against pairing a range with the wrong message.
fn bytes_in(bytes: &[u8], range: Range<usize>) -> Result<&[u8], PruneError> {
    bytes
        .get(range)
        .ok_or_else(|| PruneError("field range outside its message".into()))
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn fields(bytes: &[u8]) -> Result<Vec<Field>, PruneError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let tag = varint(bytes, &mut pos)?;
        let (number, wire_type) = (tag >> 3, (tag & 7) as u8);
        let payload_start;
        match wire_type {
            WIRE_VARINT => {
                payload_start = pos;
                varint(bytes, &mut pos)?;
            }
            WIRE_FIXED64 => {
                payload_start = pos;
                pos += 8;
            }
            WIRE_LENGTH_DELIMITED => {
                let len = varint(bytes, &mut pos)? as usize;
                payload_start = pos;
                pos = pos
                    .checked_add(len)
                    .ok_or_else(|| PruneError("length overflow".into()))?;
            }
            WIRE_FIXED32 => {
                payload_start = pos;
                pos += 4;
            }
            other => return Err(PruneError(format!("unsupported wire type {other}"))),
        }
        if pos > bytes.len() {
            return Err(PruneError("field runs past the end".into()));
        }
        out.push(Field {
            number,
            wire_type,
            whole: start..pos,
            payload: payload_start..pos,
        });
    }
    Ok(out)
}

/// The string fields numbered `number` of a message.
fn strings(message: &[u8], number: u64) -> Result<Vec<String>, PruneError> {
    fields(message)?
        .into_iter()
        .filter(|f| f.number == number && f.wire_type == WIRE_LENGTH_DELIMITED)
        .map(|f| Ok(String::from_utf8_lossy(bytes_in(message, f.payload)?).into_owned()))
        .collect()
}

fn first_string(message: &[u8], number: u64) -> Result<String, PruneError> {
    Ok(strings(message, number)?.into_iter().next().unwrap_or_default())
}

/// The model without the nodes, initializers, outputs and value infos that only serve outputs outside `keep`.
pub fn model_with_only_outputs(model: &[u8], keep: &[&str]) -> Result<Vec<u8>, PruneError> {
    let model_fields = fields(model)?;
    let graph_field = model_fields
        .iter()
        .find(|f| f.number == MODEL_GRAPH && f.wire_type == WIRE_LENGTH_DELIMITED)
        .ok_or_else(|| PruneError("no graph".into()))?;
    let graph = bytes_in(model, graph_field.payload.clone())?;
    let graph_fields = fields(graph)?;

    // Which node produces each tensor.
    let mut nodes: Vec<(Vec<String>, usize)> = Vec::new(); // (inputs, index into graph_fields)
    let mut producer: HashMap<String, usize> = HashMap::new();
    for (index, field) in graph_fields.iter().enumerate() {
        if field.number == GRAPH_NODE && field.wire_type == WIRE_LENGTH_DELIMITED {
            let node = bytes_in(graph, field.payload.clone())?;
            for output in strings(node, NODE_OUTPUT)? {
                producer.insert(output, nodes.len());
            }
            nodes.push((strings(node, NODE_INPUT)?, index));
        }
    }
    for name in keep {
        if !producer.contains_key(*name) {
            return Err(PruneError(format!("no node produces output {name}")));
        }
    }
    // Walk back from the kept outputs.
    let mut needed_names: HashSet<String> = HashSet::new();
    let mut kept_nodes: HashSet<usize> = HashSet::new();
    let mut stack: Vec<String> = keep.iter().map(|s| (*s).to_owned()).collect();
    while let Some(name) = stack.pop() {
        if name.is_empty() || !needed_names.insert(name.clone()) {
            continue;
        }
        // `producer` holds positions in `nodes`, so the lookup always succeeds.
        if let Some(&node) = producer.get(&name)
            && kept_nodes.insert(node)
            && let Some((inputs, _)) = nodes.get(node)
        {
            stack.extend(inputs.iter().cloned());
        }
    }
    let kept_fields: HashSet<usize> = kept_nodes
        .iter()
        .filter_map(|&node| nodes.get(node))
        .map(|&(_, field_index)| field_index)
        .collect();

    let mut new_graph = Vec::with_capacity(graph.len());
    for (index, field) in graph_fields.iter().enumerate() {
        let payload = bytes_in(graph, field.payload.clone())?;
        let keep_field = match field.number {
            GRAPH_NODE => kept_fields.contains(&index),
            GRAPH_INITIALIZER => needed_names.contains(&first_string(payload, TENSOR_NAME)?),
            GRAPH_INPUT | GRAPH_VALUE_INFO => needed_names.contains(&first_string(payload, VALUE_INFO_NAME)?),
            GRAPH_OUTPUT => keep.contains(&first_string(payload, VALUE_INFO_NAME)?.as_str()),
            _ => true,
        };
        if keep_field {
            new_graph.extend_from_slice(bytes_in(graph, field.whole.clone())?);
        }
    }
    let mut out = Vec::with_capacity(model.len());
    for field in &model_fields {
        if std::ptr::eq(field, graph_field) {
            push_varint(&mut out, (MODEL_GRAPH << 3) | u64::from(WIRE_LENGTH_DELIMITED));
            push_varint(&mut out, new_graph.len() as u64);
            out.extend_from_slice(&new_graph);
        } else {
            out.extend_from_slice(bytes_in(model, field.whole.clone())?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn length_delimited(out: &mut Vec<u8>, number: u64, payload: &[u8]) {
        push_varint(out, (number << 3) | u64::from(WIRE_LENGTH_DELIMITED));
        push_varint(out, payload.len() as u64);
        out.extend_from_slice(payload);
    }

    fn node(inputs: &[&str], outputs: &[&str]) -> Vec<u8> {
        let mut n = Vec::new();
        for i in inputs {
            length_delimited(&mut n, NODE_INPUT, i.as_bytes());
        }
        for o in outputs {
            length_delimited(&mut n, NODE_OUTPUT, o.as_bytes());
        }
        length_delimited(&mut n, 4, b"Relu"); // op_type: copied as is
        n
    }

    fn named(number: u64, name: &str) -> Vec<u8> {
        let mut v = Vec::new();
        length_delimited(&mut v, number, name.as_bytes());
        v
    }

    /// x → a → (out_keep); a → b → (out_drop); w (initializer) feeds b only.
    fn model() -> Vec<u8> {
        let mut graph = Vec::new();
        length_delimited(&mut graph, GRAPH_NODE, &node(&["x"], &["a"]));
        length_delimited(&mut graph, GRAPH_NODE, &node(&["a"], &["out_keep"]));
        length_delimited(&mut graph, GRAPH_NODE, &node(&["a", "w"], &["b"]));
        length_delimited(&mut graph, GRAPH_NODE, &node(&["b"], &["out_drop"]));
        length_delimited(&mut graph, GRAPH_INITIALIZER, &named(TENSOR_NAME, "w"));
        length_delimited(&mut graph, GRAPH_INPUT, &named(VALUE_INFO_NAME, "x"));
        length_delimited(&mut graph, GRAPH_OUTPUT, &named(VALUE_INFO_NAME, "out_keep"));
        length_delimited(&mut graph, GRAPH_OUTPUT, &named(VALUE_INFO_NAME, "out_drop"));
        length_delimited(&mut graph, GRAPH_VALUE_INFO, &named(VALUE_INFO_NAME, "b"));
        let mut model = Vec::new();
        push_varint(&mut model, 1 << 3); // ir_version = 8 (a varint field, copied as is)
        push_varint(&mut model, 8);
        length_delimited(&mut model, MODEL_GRAPH, &graph);
        model
    }

    #[test]
    fn unused_branch_is_removed_and_the_rest_is_kept_verbatim() {
        let pruned = model_with_only_outputs(&model(), &["out_keep"]).expect("prunes");
        let top = fields(&pruned).expect("parses");
        assert_eq!(&pruned[top[0].whole.clone()], &[8, 8], "ir_version copied");
        let graph = &pruned[top[1].payload.clone()];
        let graph_fields = fields(graph).expect("graph parses");
        let node_outputs: Vec<String> = graph_fields
            .iter()
            .filter(|f| f.number == GRAPH_NODE)
            .flat_map(|f| strings(&graph[f.payload.clone()], NODE_OUTPUT).expect("node"))
            .collect();
        assert_eq!(node_outputs, ["a", "out_keep"]);
        let count = |n| graph_fields.iter().filter(|f| f.number == n).count();
        assert_eq!(
            (count(GRAPH_INITIALIZER), count(GRAPH_INPUT), count(GRAPH_OUTPUT)),
            (0, 1, 1)
        );
        assert_eq!(count(GRAPH_VALUE_INFO), 0);
        // Keeping everything changes nothing.
        let all = model_with_only_outputs(&model(), &["out_keep", "out_drop"]).expect("prunes");
        assert_eq!(all, model());
    }

    #[test]
    fn unknown_outputs_and_garbage_are_errors() {
        assert!(model_with_only_outputs(&model(), &["nope"]).is_err());
        assert!(model_with_only_outputs(&[0xff, 0xff], &["a"]).is_err());
    }
}
