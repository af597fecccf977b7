"""What our tasks published to the test run's Redis queue, decoded."""

import base64
import json


def published_messages(broker_queue) -> list[tuple[dict, list, dict]]:
    """(headers, args, kwargs) of each message on the queue, oldest first."""
    redis_client, queue = broker_queue
    messages = []
    for raw in reversed(redis_client.lrange(queue, 0, -1)):  # LPUSH: newest first
        envelope = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
        messages.append((envelope["headers"], args, kwargs))
    return messages


def published_tasks(broker_queue) -> list[tuple[str, list]]:
    """(task name, args) of each message on the queue, oldest first. Tasks take positional
    ids only, so a keyword argument is an error."""
    tasks = []
    for headers, args, kwargs in published_messages(broker_queue):
        assert kwargs == {}
        tasks.append((headers["task"], args))
    return tasks


def published_delivery_ids(broker_queue) -> list[str]:
    """Every delivery id handed over in `alerts.deliver` messages, oldest first."""
    return [
        delivery_id
        for task, (delivery_ids,) in published_tasks(broker_queue)
        if task == "alerts.deliver"
        for delivery_id in delivery_ids
    ]
