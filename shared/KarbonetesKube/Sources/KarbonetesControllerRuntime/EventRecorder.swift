import Foundation
public import KarbonetesKubeClient
public import KarbonetesLifecycle
public import KarbonetesLogging
public import KarbonetesMetrics
public import KarbonetesModels
import Synchronization

/// Writes `core/v1` Events about objects (`Held`, `Released`, …) without ever making the caller
/// wait on the API server: `record` puts the event in a bounded buffer and returns; ``run()``
/// writes them. A repeat of the same object, type, reason and message patches the existing
/// Event's `count` and `lastTimestamp` instead of creating another, as client-go's recorder
/// aggregates. When the buffer is full the event is dropped and counted (``droppedCount``, and
/// `droppedCounter` when given: drops are never silent). With a ``WritePriority``, each write
/// first waits for the controller's foreground work to pause, so Events never delay it: they
/// are written after a burst, from the buffer.
public final class EventRecorder: Service, Sendable {
    public let component: String
    public let instance: String
    public let capacity: Int
    private let client: KubeClient
    private let clock: any KubeClock
    private let logger: Logger
    private let droppedCounter: Counter?
    private let priority: WritePriority?
    private let stream: AsyncStream<Pending>
    private let continuation: AsyncStream<Pending>.Continuation
    private let dropped = Atomic<Int>(0)
    private let sequence = Atomic<Int>(0)
    private let written = Mutex(Aggregates())

    private struct Pending: Sendable {
        var object: ObjectReference
        var type: EventType
        var reason: String
        var message: String
        var time: Date
    }

    private struct AggregateKey: Hashable {
        var kind: String?
        var namespace: String?
        var name: String?
        var uid: String?
        var type: EventType
        var reason: String
        var message: String
    }

    private struct Aggregate {
        var eventName: String
        var namespace: String
        var count: Int
        var lastUsed: Int
    }

    /// The aggregates with their use order, so that forgetting the least recently used one
    /// costs O(1) amortised: a scan of all of them per new Event took a tenth of the
    /// controller's CPU after a 10,000-Job release.
    private struct Aggregates {
        var entries: [AggregateKey: Aggregate] = [:]
        var tick = 0
        /// Every use, oldest first; a use is stale once its key was used again later.
        private var uses: [(key: AggregateKey, tick: Int)] = []
        private var usesHead = 0

        mutating func touch(_ key: AggregateKey) -> Aggregate? {
            guard var aggregate = entries[key] else { return nil }
            tick += 1
            aggregate.lastUsed = tick
            entries[key] = aggregate
            uses.append((key, tick))
            compactIfNeeded()
            return aggregate
        }

        mutating func insert(_ key: AggregateKey, eventName: String, namespace: String, limit: Int) {
            tick += 1
            entries[key] = Aggregate(eventName: eventName, namespace: namespace, count: 1, lastUsed: tick)
            uses.append((key, tick))
            while entries.count > limit, usesHead < uses.count {
                let oldest = uses[usesHead]
                usesHead += 1
                if entries[oldest.key]?.lastUsed == oldest.tick { entries.removeValue(forKey: oldest.key) }
            }
            compactIfNeeded()
        }

        /// Drops the stale uses once they outnumber the live ones.
        private mutating func compactIfNeeded() {
            guard uses.count - usesHead > 2 * entries.count + 64 else { return }
            uses = uses[usesHead...].filter { entries[$0.key]?.lastUsed == $0.tick }
            usesHead = 0
        }
    }

    /// Aggregates kept (least recently used beyond this are forgotten; a later repeat then
    /// creates a new Event).
    private let aggregateLimit: Int

    public init(
        client: KubeClient, component: String, instance: String, capacity: Int = 1000, clock: any KubeClock = WallClock(),
        logger: Logger = .disabled, droppedCounter: Counter? = nil, priority: WritePriority? = nil, aggregateLimit: Int = 4096
    ) {
        self.aggregateLimit = max(1, aggregateLimit)
        self.priority = priority
        self.client = client
        self.component = component
        self.instance = instance
        self.capacity = max(1, capacity)
        self.clock = clock
        self.logger = logger
        self.droppedCounter = droppedCounter
        (stream, continuation) = AsyncStream.makeStream(of: Pending.self, bufferingPolicy: .bufferingOldest(max(1, capacity)))
    }

    /// Queues an Event about `object`; never waits. Messages are cut to 1 KiB, as the API server
    /// limits them.
    public func record(_ object: ObjectReference, type: EventType, reason: String, message: String) {
        let pending = Pending(object: object, type: type, reason: reason, message: String(message.prefix(1024)), time: clock.now())
        if case .dropped = continuation.yield(pending) {
            dropped.add(1, ordering: .relaxed)
            droppedCounter?.increment()
        }
    }

    /// Queues an Event about a model object, referring to it by kind, namespace, name and uid.
    public func record<T: KubernetesResource>(_ object: T, type: EventType, reason: String, message: String) {
        let reference = ObjectReference(
            apiVersion: T.resource.apiVersion, kind: T.resource.kind, namespace: object.metadata.namespace, name: object.metadata.name,
            uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion)
        record(reference, type: type, reason: reason, message: message)
    }

    /// Events dropped because the buffer was full.
    public var droppedCount: Int { dropped.load(ordering: .relaxed) }

    /// Writes queued Events until cancelled (or ``finish()``); a failed write is logged and
    /// dropped, never retried in a loop that would hold up the others.
    public func run() async throws {
        for await pending in stream {
            await priority?.waitForTurn()
            await write(pending)
        }
    }

    /// Stops accepting Events; ``run()`` returns once the queued ones are written.
    public func finish() { continuation.finish() }

    private func write(_ pending: Pending) async {
        let key = AggregateKey(
            kind: pending.object.kind, namespace: pending.object.namespace, name: pending.object.name, uid: pending.object.uid,
            type: pending.type, reason: pending.reason, message: pending.message)
        let existing = written.withLock { $0.touch(key) }
        if let existing {
            do {
                let count = existing.count + 1
                _ = try await client.patch(
                    JSONValue.self, .events, namespace: existing.namespace, name: existing.eventName,
                    patch: .merge(["count": .number(Double(count)), "lastTimestamp": .string(RFC3339.format(pending.time))]))
                written.withLock { $0.entries[key]?.count = count }
                return
            } catch let error as KubeAPIError where error.isNotFound {
                // The Event expired (the API server keeps them an hour): start a new one.
            } catch {
                logger.warning("could not update an Event", metadata: ["event.reason": pending.reason, "error": String(describing: error)])
                return
            }
        }
        let namespace = pending.object.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        // client-go names Events `<object>.<nanoseconds in hex>`; the sequence keeps two Events
        // recorded in the same instant (a manual clock, a coarse one) from colliding.
        let nanos = UInt64(max(0, pending.time.timeIntervalSince1970) * 1e9) &+ UInt64(sequence.add(1, ordering: .relaxed).oldValue)
        let name = "\(pending.object.name ?? "object").\(String(nanos, radix: 16))"
        let event = Event(
            metadata: ObjectMeta(name: name, namespace: namespace), involvedObject: pending.object, reason: pending.reason,
            message: pending.message, type: pending.type.rawValue, count: 1, firstTimestamp: pending.time, lastTimestamp: pending.time,
            source: EventSource(component: component), reportingComponent: component, reportingInstance: instance)
        do {
            _ = try await client.create(event, .events, namespace: namespace)
            written.withLock { $0.insert(key, eventName: name, namespace: namespace, limit: aggregateLimit) }
        } catch {
            logger.warning("could not create an Event", metadata: ["event.reason": pending.reason, "error": String(describing: error)])
        }
    }
}
