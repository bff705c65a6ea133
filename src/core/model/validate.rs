//! Structural checks ONNX Runtime does not make before it runs a model. A tree ensemble is a set of
//! trees given as parallel arrays of node links; ONNX Runtime follows the links without checking
//! them, so one flipped byte that makes two nodes point at each other makes every row that reaches
//! them loop for ever. Before a model is used, every tree must be a tree: each link points at a node
//! of the same tree, every node is reached from one root exactly once (no cycle, no shared child),
//! every path ends in a leaf, and the leaf weights name leaves and classes that exist.
//!
//! Covered: `TreeEnsembleClassifier` and `TreeEnsembleRegressor` (ai.onnx.ml 1–3) and
//! `TreeEnsemble` (ai.onnx.ml 5).

use std::collections::HashMap;

use crate::core::onnx_proto::{GraphProto, NodeProto};

/// The first structural problem in `graph`'s tree ensembles, in words naming the node.
pub fn check_graph(graph: &GraphProto) -> Result<(), String> {
    for node in &graph.node {
        let named = |e: String| format!("{} node '{}': {e}", node.op(), node_name(node));
        match node.op() {
            "TreeEnsembleClassifier" | "TreeEnsembleRegressor" => check_classic(node).map_err(named)?,
            "TreeEnsemble" => check_v5(node).map_err(named)?,
            _ => {}
        }
    }
    Ok(())
}

fn node_name(node: &NodeProto) -> String {
    node.output.first().cloned().unwrap_or_default()
}

fn ints<'a>(node: &'a NodeProto, name: &str) -> &'a [i64] {
    node.attr(name).map_or(&[], |a| a.ints.as_slice())
}

/// `TreeEnsembleClassifier` / `TreeEnsembleRegressor`: nodes named by (tree id, node id).
fn check_classic(node: &NodeProto) -> Result<(), String> {
    let trees = ints(node, "nodes_treeids");
    let ids = ints(node, "nodes_nodeids");
    let truths = ints(node, "nodes_truenodeids");
    let falses = ints(node, "nodes_falsenodeids");
    let features = ints(node, "nodes_featureids");
    let modes: Vec<String> = node.attr("nodes_modes").map(|a| a.string_list()).unwrap_or_default();
    let n = ids.len();
    if n == 0 {
        return Err("it has no nodes".into());
    }
    for (name, len) in [
        ("nodes_treeids", trees.len()),
        ("nodes_modes", modes.len()),
        ("nodes_truenodeids", truths.len()),
        ("nodes_falsenodeids", falses.len()),
        ("nodes_featureids", features.len()),
    ] {
        if len != n {
            return Err(format!("{name} has {len} entries but nodes_nodeids has {n}"));
        }
    }
    if let Some(values) = node.attr("nodes_values").filter(|a| !a.floats.is_empty())
        && values.floats.len() != n
    {
        return Err(format!("nodes_values has {} entries but nodes_nodeids has {n}", values.floats.len()));
    }
    let mut index: HashMap<(i64, i64), usize> = HashMap::with_capacity(n);
    for i in 0..n {
        if index.insert((trees[i], ids[i]), i).is_some() {
            return Err(format!("tree {} has node {} twice", trees[i], ids[i]));
        }
        if features[i] < 0 {
            return Err(format!("node {} of tree {} reads feature {}", ids[i], trees[i], features[i]));
        }
    }
    let mut children: Vec<Option<[usize; 2]>> = vec![None; n];
    for i in 0..n {
        let mode = modes[i].as_str();
        if mode == "LEAF" {
            continue;
        }
        if !matches!(
            mode,
            "BRANCH_LEQ" | "BRANCH_LT" | "BRANCH_GTE" | "BRANCH_GT" | "BRANCH_EQ" | "BRANCH_NEQ" | "BRANCH_MEMBER"
        ) {
            return Err(format!("node {} of tree {} has the unknown mode '{mode}'", ids[i], trees[i]));
        }
        let child = |c: i64, which: &str| {
            index.get(&(trees[i], c)).copied().ok_or_else(|| {
                format!(
                    "node {} of tree {} sends {which} rows to node {c}, which the tree does not have",
                    ids[i], trees[i]
                )
            })
        };
        children[i] = Some([child(truths[i], "true")?, child(falses[i], "false")?]);
    }
    let mut tree_ids: Vec<i64> = trees.to_vec();
    tree_ids.sort_unstable();
    tree_ids.dedup();
    let members = |t: i64| (0..n).filter(move |&i| trees[i] == t);
    for t in tree_ids {
        check_tree(&children, members(t), &|i| format!("node {} of tree {t}", ids[i]))?;
    }
    // Leaf weights must point at leaves that exist, and at classes / targets that exist.
    let (prefix, outputs) = if node.op() == "TreeEnsembleClassifier" {
        let classes =
            ints(node, "classlabels_int64s").len().max(node.attr("classlabels_strings").map_or(0, |a| a.strings.len()));
        ("class", classes.max(2))
    } else {
        ("target", usize::try_from(node.attr("n_targets").and_then(|a| a.i).unwrap_or(1)).unwrap_or(0))
    };
    let weight_trees = ints(node, &format!("{prefix}_treeids"));
    let weight_nodes = ints(node, &format!("{prefix}_nodeids"));
    let weight_ids = ints(node, &format!("{prefix}_ids"));
    if weight_trees.len() != weight_nodes.len() || weight_trees.len() != weight_ids.len() {
        return Err(format!("the {prefix}_treeids, {prefix}_nodeids and {prefix}_ids lists differ in length"));
    }
    for k in 0..weight_trees.len() {
        let at = (weight_trees[k], weight_nodes[k]);
        let Some(&i) = index.get(&at) else {
            return Err(format!("a weight names node {} of tree {}, which does not exist", at.1, at.0));
        };
        if modes[i] != "LEAF" {
            return Err(format!("a weight names node {} of tree {}, which is not a leaf", at.1, at.0));
        }
        if usize::try_from(weight_ids[k]).map_or(true, |c| c >= outputs) {
            return Err(format!(
                "a weight of node {} of tree {} is for {prefix} {} of {outputs}",
                at.1, at.0, weight_ids[k]
            ));
        }
    }
    Ok(())
}

/// `TreeEnsemble` (ai.onnx.ml 5): nodes named by their position; a link flagged as a leaf names a
/// leaf instead.
fn check_v5(node: &NodeProto) -> Result<(), String> {
    let roots = ints(node, "tree_roots");
    let truths = ints(node, "nodes_truenodeids");
    let true_leafs = ints(node, "nodes_trueleafs");
    let falses = ints(node, "nodes_falsenodeids");
    let false_leafs = ints(node, "nodes_falseleafs");
    let leaves = ints(node, "leaf_targetids").len();
    let n = truths.len();
    for (name, len) in [
        ("nodes_trueleafs", true_leafs.len()),
        ("nodes_falsenodeids", falses.len()),
        ("nodes_falseleafs", false_leafs.len()),
    ] {
        if len != n {
            return Err(format!("{name} has {len} entries but nodes_truenodeids has {n}"));
        }
    }
    let mut children: Vec<Option<[usize; 2]>> = vec![None; n];
    let mut leaf_children: Vec<[bool; 2]> = vec![[false; 2]; n];
    for i in 0..n {
        let mut pair = [0usize; 2];
        for (k, (id, is_leaf)) in [(truths[i], true_leafs[i]), (falses[i], false_leafs[i])].into_iter().enumerate() {
            let limit = if is_leaf != 0 { leaves } else { n };
            let target = usize::try_from(id).ok().filter(|&t| t < limit).ok_or_else(|| {
                format!("node {i} links to {} {id}, of {limit}", if is_leaf != 0 { "leaf" } else { "node" })
            })?;
            pair[k] = target;
            leaf_children[i][k] = is_leaf != 0;
        }
        children[i] = Some(pair);
    }
    // A link to a leaf ends the path: only node links count as edges.
    let edges: Vec<Option<[usize; 2]>> = (0..n)
        .map(|i| {
            children[i].map(|[t, f]| {
                [if leaf_children[i][0] { usize::MAX } else { t }, if leaf_children[i][1] { usize::MAX } else { f }]
            })
        })
        .collect();
    let mut seen = vec![false; n];
    for (r, &root) in roots.iter().enumerate() {
        let root = usize::try_from(root)
            .ok()
            .filter(|&x| x < n)
            .ok_or_else(|| format!("tree {r} starts at node {root}, of {n}"))?;
        walk(&edges, root, &mut seen, &|i| format!("node {i}"))?;
    }
    Ok(())
}

/// Every node of one tree (`members`, by position) is reached exactly once from the tree's single
/// node that no other node links to.
fn check_tree(
    children: &[Option<[usize; 2]>],
    members: impl Iterator<Item = usize> + Clone,
    name: &dyn Fn(usize) -> String,
) -> Result<(), String> {
    let mut has_parent = vec![false; children.len()];
    for i in members.clone() {
        for c in children[i].into_iter().flatten() {
            has_parent[c] = true;
        }
    }
    let roots: Vec<usize> = members.clone().filter(|&i| !has_parent[i]).collect();
    // A loop is the worst finding (it hangs the runtime): look for one from every start first.
    for &root in &roots {
        walk(children, root, &mut vec![false; children.len()], name)?;
    }
    let root = match roots.as_slice() {
        [root] => *root,
        [] => {
            return Err(format!(
                "every node of the tree of {} has a parent: its links form a cycle",
                name(members.clone().next().unwrap_or(0))
            ));
        }
        [a, b, ..] => return Err(format!("{} and {} both start the same tree", name(*a), name(*b))),
    };
    let mut seen = vec![false; children.len()];
    walk(children, root, &mut seen, name)?;
    if let Some(lost) = members.clone().find(|&i| !seen[i]) {
        return Err(format!("{} is not reached from the tree's root (its links form a cycle)", name(lost)));
    }
    Ok(())
}

/// Depth-first from `root` over node links (`usize::MAX`: a leaf link, no edge), refusing a node
/// reached twice.
fn walk(
    children: &[Option<[usize; 2]>],
    root: usize,
    seen: &mut [bool],
    name: &dyn Fn(usize) -> String,
) -> Result<(), String> {
    // (node, the node whose link led here, depth): depth-first, so a node met again while it is on
    // the current path is a loop; met again elsewhere, a shared child.
    let mut path: Vec<usize> = Vec::new();
    let mut stack = vec![(root, usize::MAX, 0usize)];
    while let Some((i, from, depth)) = stack.pop() {
        path.truncate(depth);
        if std::mem::replace(&mut seen[i], true) {
            let what = if path.contains(&i) { "links back to" } else { "shares its child" };
            let from = if from == usize::MAX { String::from("the tree's root") } else { name(from) };
            return Err(format!(
                "{from} {what} {}: the tree's links form a cycle, and rows that reach it would loop for ever",
                name(i)
            ));
        }
        path.push(i);
        for c in children[i].into_iter().flatten().filter(|&c| c != usize::MAX) {
            stack.push((c, i, depth + 1));
        }
    }
    Ok(())
}
