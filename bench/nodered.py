"""The edge benchmark's workload on Node-RED with node-red-contrib-modbus, for comparison.

Node-RED polls the same simulated PLC (200 coils and 200 holding registers, every 100 ms,
one ``modbus-read`` node each), a function node turns rising edges into call events of
our wire contract and another batches the registers into one measurement message per
cycle on the edge's measurement topic (as the agent does), and ``mqtt out`` publishes
both at QoS 1. There is no SPC in this flow (Node-RED
has none), so it does less than the edge agent. Node-RED and the contrib node are not
dependencies of this project: install them anywhere (``npm install node-red@4
node-red-contrib-modbus@5.23.3``) and pass the ``node-red`` executable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.edge import STATIONS, Broker, Plc, measure_process
from contract.netutil import free_port
from contract.wire import Topics

_EDGES = """
const prev = context.get('prev') || [];
let seq = flow.get('seq') || 0;
const out = [];
for (let i = 0; i < msg.payload.length; i++) {
  if (msg.payload[i] && !prev[i]) {
    seq += 1;
    const station = 'st' + (i % STATIONS);
    out.push({topic: 'bench/v1/bench/a/l/' + station + '/event', payload: JSON.stringify({
      event_id: 'bench-edge:' + seq, edge_id: 'bench-edge', seq: seq,
      ts: new Date().toISOString(), site: 'bench', area: 'a', line: 'l', station: station,
      kind: 'call', payload: {call_type: 'help'}})});
  }
}
context.set('prev', msg.payload.map(Boolean));
flow.set('seq', seq);
return [out];
"""

# A Modbus request carries at most 125 registers: the registers come in two reads, the
# first kept in the flow's context, the second completing the cycle's values.
_KEEP = """
flow.set('first_half', msg.payload);
return null;
"""

# One measurement message per cycle for the whole edge, on the edge's measurement topic
# (``Topics.measurement``), each reading naming its station: what the agent publishes.
_MEASUREMENTS = """
let seq = flow.get('seq') || 0;
const values = (flow.get('first_half') || []).concat(msg.payload);
const readings = [];
for (let i = 0; i < values.length; i++) {
  readings.push({station: 'st' + (i % STATIONS), name: 'm' + i, value: values[i] * 0.1});
}
seq += 1;
flow.set('seq', seq);
return {topic: 'MEASUREMENT_TOPIC', payload: JSON.stringify({
  event_id: 'bench-edge:' + seq, edge_id: 'bench-edge', seq: seq,
  ts: new Date().toISOString(), site: 'bench', area: 'a', line: 'l',
  kind: 'measurement', payload: {readings: readings}})};
"""


def _flow(broker: Broker, plc: Plc, *, buttons: int, measurements: int, rate_ms: int) -> Any:
    def reader(
        node_id: str, data_type: str, start: int, quantity: int, wire: str
    ) -> dict[str, Any]:
        return {
            "id": node_id, "type": "modbus-read", "z": "tab", "name": f"read {node_id}",
            "topic": "",
            "showStatusActivities": False, "logIOActivities": False, "showErrors": True,
            "unitid": "1", "dataType": data_type, "adr": str(start), "quantity": str(quantity),
            "rate": str(rate_ms), "rateUnit": "ms", "delayOnStart": False,
            "startDelayTime": "", "server": "modbus-plc", "useIOFile": False, "ioFile": "",
            "useIOForPayload": False, "emptyMsgOnFail": False, "x": 100, "y": 100,
            "wires": [[wire]],
        }  # fmt: skip

    def function(node_id: str, body: str) -> dict[str, Any]:
        topic = Topics("bench").measurement("bench", "bench-edge")
        code = body.replace("STATIONS", str(STATIONS)).replace("MEASUREMENT_TOPIC", topic)
        return {
            "id": node_id, "type": "function", "z": "tab", "name": f"make {node_id}", "func": code,
            "outputs": 1, "x": 300, "y": 100, "wires": [["publish"]],
        }  # fmt: skip

    half = measurements // 2
    return [
        {"id": "tab", "type": "tab", "label": "bench"},
        {
            "id": "modbus-plc", "type": "modbus-client", "name": "simulated PLC",
            "clienttype": "tcp",
            "bufferCommands": True, "stateLogEnabled": False, "queueLogEnabled": False,
            "failureLogEnabled": True, "tcpHost": plc.host, "tcpPort": str(plc.port),
            "tcpType": "DEFAULT", "unit_id": "1", "commandDelay": "1",
            "clientTimeout": "1000", "reconnectOnTimeout": True, "reconnectTimeout": "2000",
            "parallelUnitIdsAllowed": True,
        },
        {
            "id": "mqtt-local", "type": "mqtt-broker", "name": "local broker",
            "broker": broker.host,
            "port": str(broker.port), "clientid": "bench-node-red", "autoConnect": True,
            "usetls": False, "protocolVersion": "4", "keepalive": "10", "cleansession": True,
        },
        reader("coils", "Coil", 0, buttons, "edges"),
        reader("registers-1", "HoldingRegister", 0, half, "keep"),
        reader("registers-2", "HoldingRegister", half, measurements - half, "batch"),
        function("edges", _EDGES),
        function("keep", _KEEP),
        function("batch", _MEASUREMENTS),
        {
            "id": "publish", "type": "mqtt out", "z": "tab", "name": "publish events", "topic": "",
            "qos": "1", "retain": "false", "broker": "mqtt-local", "x": 500, "y": 100, "wires": [],
        },
    ]  # fmt: skip


def run_node_red_benchmark(
    node_red: Path, folder: Path, broker: Broker, plc: Plc, *, buttons: int = 200,
    measurements: int = 200, poll_interval_s: float = 0.1, presses: int = 100,
    warmup_s: float = 5.0,
) -> dict[str, Any]:  # fmt: skip
    """The edge benchmark's keys, measured on a Node-RED process running the flow."""
    user_dir = folder / "node-red"
    user_dir.mkdir()
    flow = _flow(
        broker, plc, buttons=buttons, measurements=measurements,
        rate_ms=round(poll_interval_s * 1000),
    )  # fmt: skip
    (user_dir / "flows.json").write_text(json.dumps(flow, indent=1))
    (user_dir / "settings.js").write_text(
        "module.exports = {flowFile: 'flows.json', httpAdminRoot: false, httpNodeRoot: false,"
        f" uiPort: {free_port()}, uiHost: '127.0.0.1',"
        " logging: {console: {level: 'warn'}}};\n"
    )
    command = [
        str(node_red),
        "--userDir",
        str(user_dir),
        "--settings",
        str(user_dir / "settings.js"),
    ]
    report = measure_process(
        command, folder, broker, plc, buttons=buttons, measurements=measurements,
        poll_interval_s=poll_interval_s, presses=presses, warmup_s=warmup_s,
    )  # fmt: skip
    report["spc"] = False
    return report
