import { useEffect, useMemo, type DragEvent } from "react";
import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import type { BranchSide, FlowProblem, NodeOutcome } from "../../bindings";
import { edgeKey, edgeProblem, isStart, kindOf, summary, type Draft, type DraftNode } from "../../lib/flows";

/** The MIME type a palette entry is dragged with. */
export const PALETTE_DRAG = "application/x-syncstudio-node";

type StepData = { spec: DraftNode; problems: number; outcome: string | null };
type StepNode = Node<StepData, "step">;

function Step({ data, selected }: NodeProps<StepNode>) {
  const { spec, problems, outcome } = data;
  const kind = kindOf(spec.type);
  const start = isStart(spec.type);
  return (
    <div
      className={"flow-node" + (selected ? " selected" : "") + (problems ? " has-problems" : "") + (start ? " start" : "")}
      data-node={spec.id}
      data-type={spec.type}
    >
      {!start && <Handle type="target" position={Position.Top} />}
      <div className="flow-node-head">
        <span className="flow-node-kind">{kind?.label ?? spec.type}</span>
        <span className="mono muted small">{spec.id}</span>
      </div>
      <div className="flow-node-summary small">{summary(spec) || " "}</div>
      <div className="flow-node-badges">
        {problems > 0 && (
          <span className="badge bad" title="See the node's settings">
            {problems} problem{problems > 1 ? "s" : ""}
          </span>
        )}
        {outcome && <span className={"badge outcome-" + outcome}>{outcome}</span>}
      </div>
      {spec.type === "branch" ? (
        <>
          <Handle type="source" id="then" position={Position.Bottom} style={{ left: "30%" }} />
          <Handle type="source" id="else" position={Position.Bottom} style={{ left: "70%" }} />
          <div className="branch-labels small muted">
            <span>then</span>
            <span>else</span>
          </div>
        </>
      ) : (
        <Handle type="source" position={Position.Bottom} />
      )}
    </div>
  );
}

const NODE_TYPES = { step: Step };

/** The flow on a canvas: drag nodes, draw edges from a node's bottom
 * handle to another's top, Delete removes what is selected. */
export function FlowCanvas(props: {
  draft: Draft;
  selected: string | null;
  problems: FlowProblem[];
  outcomes: NodeOutcome[];
  onSelect: (id: string | null) => void;
  /** A change worth an undo step. */
  onCommit: (d: Draft) => void;
  /** Before a drag: the state an undo returns to. */
  onCheckpoint: () => void;
  /** While dragging: no undo step each frame. */
  onReplace: (d: Draft) => void;
  onConnectNodes: (from: string, to: string, branch: BranchSide | null) => void;
  onRemoveNodes: (ids: string[]) => void;
  onRemoveEdges: (keys: string[]) => void;
  onDropKind: (type: string, at: { x: number; y: number }) => void;
}) {
  const { draft, selected, problems, outcomes, onSelect, onCommit, onCheckpoint, onReplace } = props;
  const flow = useReactFlow();
  // A node added off screen is brought into view (the whole flow framed).
  const count = draft.nodes.length;
  useEffect(() => {
    if (count === 0) return;
    const frame = requestAnimationFrame(() => void flow.fitView({ maxZoom: 1, padding: 0.15, duration: 150 }));
    return () => cancelAnimationFrame(frame);
  }, [count, flow]);
  const nodes: StepNode[] = useMemo(
    () =>
      draft.nodes.map((spec, i) => ({
        id: spec.id,
        type: "step",
        position: draft.layout[spec.id] ?? { x: 0, y: i * 120 },
        selected: spec.id === selected,
        data: {
          spec,
          problems: problems.filter((p) => p.node === spec.id).length,
          outcome: outcomes.find((o) => o.node === spec.id)?.status ?? null,
        },
      })),
    [draft, selected, problems, outcomes],
  );
  const edges: Edge[] = useMemo(
    () =>
      draft.edges.map((e) => ({
        id: edgeKey(e),
        source: e.from,
        target: e.to,
        sourceHandle: e.branch ?? null,
        label: e.branch,
        animated: false,
      })),
    [draft.edges],
  );

  const onNodesChange = (changes: NodeChange<StepNode>[]) => {
    let layout = draft.layout;
    let moved = false;
    let ended = false;
    const removed: string[] = [];
    for (const c of changes) {
      if (c.type === "position" && c.position) {
        layout = { ...layout, [c.id]: { x: Math.round(c.position.x), y: Math.round(c.position.y) } };
        moved = true;
        if (c.dragging === false) ended = true;
      } else if (c.type === "position" && c.dragging === false) {
        ended = true;
      } else if (c.type === "remove") {
        removed.push(c.id);
      } else if (c.type === "select" && c.selected) {
        onSelect(c.id);
      }
    }
    if (moved) {
      const next = { ...draft, layout };
      if (ended) onCommit(next);
      else onReplace(next);
    }
    if (removed.length) props.onRemoveNodes(removed);
  };
  const onEdgesChange = (changes: EdgeChange[]) => {
    const removed = changes.filter((c) => c.type === "remove").map((c) => c.id);
    if (removed.length) props.onRemoveEdges(removed);
  };
  const valid = (c: Connection | Edge) =>
    !!c.source && !!c.target && edgeProblem(draft, c.source, c.target, (c.sourceHandle as BranchSide | null) ?? null) === null;

  const onDrop = (e: DragEvent) => {
    const type = e.dataTransfer.getData(PALETTE_DRAG);
    if (!type) return;
    e.preventDefault();
    const at = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    props.onDropKind(type, { x: Math.round(at.x), y: Math.round(at.y) });
  };

  return (
    <div className="flow-canvas" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStart={() => onCheckpoint()}
        onConnect={(c) => c.source && c.target && props.onConnectNodes(c.source, c.target, (c.sourceHandle as BranchSide | null) ?? null)}
        isValidConnection={valid}
        onPaneClick={() => onSelect(null)}
        deleteKeyCode={["Delete", "Backspace"]}
        colorMode="system"
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
