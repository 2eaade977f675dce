"""Real-time delivery of the event log over WebSocket (``/ws``).

* ``protocol``   the wire format: client messages parsed, frames built, codes
* ``rooms``      room names and who may join which
* ``records``    the log as the fan-out reads it
* ``wire``       WebSocket frames built once; the transport behind uvicorn's ``send``
* ``outbox``     one client's bounded, never-waiting send queue
* ``fanout``     rooms to subscriptions; live delivery and gap-free replay
* ``tailer``     the one task per process that reads the log
* ``wakeup``     Redis pub/sub doorbell between workers (optional)
* ``presence``   which terminals and displays are connected (room ``devices``)
* ``announcer``  writes their ``device.status`` events, batched
* ``admission``  may this user join that room now (one snapshot read)
* ``host``       what a session needs of its process (``Host``, implemented by ``Realtime``)
* ``connection`` one client's session, from accept to close
* ``expiry``     closing each socket when its token's ``exp`` passes
* ``service``    ``Realtime``, owner of all of the above for one process
* ``endpoint``   the Litestar routes
* ``fastpath``   ``/ws`` in front of Litestar, for ``edgehub serve``

See docs/realtime.md for the protocol as clients see it.
"""
