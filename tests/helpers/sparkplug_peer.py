"""An independent Sparkplug B peer (pysparkplug), run in its own venv as a process.

pysparkplug runs on paho-mqtt 1, the product on paho 2, so this never imports the
product: it runs under ``.venv-sparkplug/bin/python`` (scripts/bootstrap.sh --dev) and
speaks JSON lines, what it receives on stdout and commands on stdin.

    sparkplug_peer.py host PORT GROUP       every message of GROUP, decoded
        stdin {"rebirth": NODE}             NCMD Node Control/Rebirth to NODE
    sparkplug_peer.py edge PORT GROUP NODE DEVICE [RUNNING]
        births on connect: node metric "Temperature" (Double), device metrics
        "Running" (Boolean, RUNNING: true or false), "Count" (Int32, 0) and "Force"
        (Double, 0.0); each NCMD received is printed
        stdin {"device": {"Running": true}}  DDATA of the device
              {"gap": 1}                     skip one seq (a lost message)
              {"death": true}                its own NDEATH and a clean disconnect
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from pysparkplug import (
    Client,
    DataType,
    Device,
    EdgeNode,
    Message,
    Metric,
    NCmd,
    QoS,
    Topic,
    get_current_timestamp,
)
from pysparkplug import MessageType as SpbType

DEVICE_TYPES = {"Running": DataType.BOOLEAN, "Count": DataType.INT32, "Force": DataType.DOUBLE}


def say(body: dict[str, Any]) -> None:
    print(json.dumps(body), flush=True)


def metric_json(metric: Metric) -> dict[str, Any]:
    return {"name": metric.name, "datatype": metric.datatype.name, "value": metric.value}


def on_message(_client: Any, message: Message) -> None:
    topic, payload = message.topic, message.payload
    body: dict[str, Any] = {
        "type": str(
            topic.message_type.value if hasattr(topic.message_type, "value") else topic.message_type
        ),
        "node": topic.edge_node_id,
        "device": topic.device_id,
    }
    if topic.message_type is SpbType.NDEATH:
        body["bdSeq"] = payload.bd_seq_metric.value
    else:
        body["seq"] = getattr(payload, "seq", None)
        body["metrics"] = [metric_json(m) for m in getattr(payload, "metrics", ())]
    say(body)


def run_host(port: int, group: str) -> None:
    client = Client(client_id=f"peer-host-{group}")
    client.connect("127.0.0.1", port=port, blocking=False)
    client.subscribe(Topic.from_str(f"spBv1.0/{group}/#"), QoS.AT_LEAST_ONCE, on_message)
    while not client._client.is_connected():
        time.sleep(0.01)
    say({"ready": True})
    for line in sys.stdin:
        command = json.loads(line)
        rebirth = Metric(
            timestamp=get_current_timestamp(), name="Node Control/Rebirth",
            datatype=DataType.BOOLEAN, value=True,
        )  # fmt: skip
        client.publish(
            Message(
                topic=Topic(message_type=SpbType.NCMD, group_id=group,
                            edge_node_id=command["rebirth"]),
                payload=NCmd(timestamp=get_current_timestamp(), metrics=(rebirth,)),
                qos=QoS.AT_MOST_ONCE, retain=False,
            ),
            include_dtypes=True,
        )  # fmt: skip
    client.disconnect()


def run_edge(port: int, group: str, node_id: str, device_id: str, running: str = "false") -> None:
    now = get_current_timestamp()
    node = EdgeNode(
        group_id=group, edge_node_id=node_id,
        metrics=[Metric(timestamp=now, name="Temperature", datatype=DataType.DOUBLE, value=21.5)],
    )  # fmt: skip
    device = Device(
        device_id=device_id,
        metrics=[
            Metric(
                timestamp=now, name="Running", datatype=DataType.BOOLEAN, value=running == "true"
            ),
            Metric(timestamp=now, name="Count", datatype=DataType.INT32, value=0),
            Metric(timestamp=now, name="Force", datatype=DataType.DOUBLE, value=0.0),
        ],
    )
    node.register(device)
    node.subscribe(
        Topic(message_type=SpbType.NCMD, group_id=group, edge_node_id=node_id),
        QoS.AT_MOST_ONCE,
        lambda _node, message: say({"ncmd": [metric_json(m) for m in message.payload.metrics]}),
    )
    node.connect("127.0.0.1", port=port, blocking=False)
    while not node._client._client.is_connected():
        time.sleep(0.01)
    say({"ready": True})
    for line in sys.stdin:
        command = json.loads(line)
        if "device" in command:
            metrics = [
                Metric(timestamp=get_current_timestamp(), name=name,
                       datatype=DEVICE_TYPES[name], value=value)
                for name, value in command["device"].items()
            ]  # fmt: skip
            node.update_device(device_id, metrics)
        elif "gap" in command:
            for _ in range(command["gap"]):
                _ = node._seq  # takes a seq that no message carries
        elif "death" in command:
            node.disconnect()
        say({"done": command})


def main() -> None:
    mode, port, group, *rest = sys.argv[1:]
    if mode == "host":
        run_host(int(port), group)
    else:
        run_edge(int(port), group, *rest)


if __name__ == "__main__":
    main()
