"""What our tasks published to the test run's Redis queue, decoded."""

import base64
import json


def published_tasks(broker_queue) -> list[tuple[str, list]]:
    """(task name, args) of each message on the queue, oldest first. Tasks take positional
    ids only, so a keyword argument is an error."""
    redis_client, queue = broker_queue
    tasks = []
    for raw in reversed(redis_client.lrange(queue, 0, -1)):  # LPUSH: newest first
        envelope = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
        assert kwargs == {}
        tasks.append((envelope["headers"]["task"], args))
    return tasks


def published_delivery_ids(broker_queue) -> list[str]:
    """Every delivery id handed over in `alerts.deliver` messages, oldest first."""
    return [
        delivery_id
        for task, (delivery_ids,) in published_tasks(broker_queue)
        if task == "alerts.deliver"
        for delivery_id in delivery_ids
    ]
