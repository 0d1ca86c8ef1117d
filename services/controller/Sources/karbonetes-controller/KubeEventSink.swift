import ControllerCore
import Foundation
import KarbonetesKubeClient
import KarbonetesLogging
import KarbonetesModels
import Synchronization

/// Records core/v1 Events on Jobs, aggregating repeats: the same (Job, type, reason, message)
/// gets one Event whose `count` and `lastTimestamp` are patched, as client-go's recorder does.
/// Never fails the caller: an Event that cannot be written is logged and dropped.
final class KubeEventSink: EventSink {
    private let client: KubeClient
    private let component: String
    private let instance: String
    private let logger: Logger
    private let counts = Mutex<[String: Int]>([:])

    init(client: KubeClient, component: String, instance: String, logger: Logger) {
        self.client = client
        self.component = component
        self.instance = instance
        self.logger = logger
    }

    func record(_ job: Job, type: EventType, reason: String, message: String) async {
        guard let namespace = job.metadata.namespace, let name = job.metadata.name else { return }
        let identity = "\(job.metadata.uid ?? name)|\(type.rawValue)|\(reason)|\(message)"
        let eventName = "\(name).\(Self.hash(identity))"
        let now = Date()
        let count = counts.withLock { counts -> Int in
            if counts.count > 10_000 { counts.removeAll() }
            counts[eventName, default: 0] += 1
            return counts[eventName]!
        }
        let reference = ObjectReference(apiVersion: Job.apiVersion, kind: Job.kind, namespace: namespace, name: name, uid: job.metadata.uid, resourceVersion: job.metadata.resourceVersion)
        do {
            if count > 1 {
                _ = try await client.patch(
                    Event.self, .events, namespace: namespace, name: eventName,
                    patch: .merge(["count": .number(Double(count)), "lastTimestamp": .string(RFC3339.format(now))]))
                return
            }
            let event = Event(
                metadata: ObjectMeta(name: eventName, namespace: namespace), involvedObject: reference, reason: reason, message: message,
                type: type.rawValue, count: 1, firstTimestamp: now, lastTimestamp: now, source: EventSource(component: component),
                reportingComponent: component, reportingInstance: instance)
            _ = try await client.create(event, .events, namespace: namespace)
        } catch let error as KubeAPIError where error.isAlreadyExists || error.isNotFound {
            counts.withLock { $0[eventName] = error.isAlreadyExists ? 2 : 0 }
            if error.isAlreadyExists {
                _ = try? await client.patch(
                    Event.self, .events, namespace: namespace, name: eventName,
                    patch: .merge(["lastTimestamp": .string(RFC3339.format(now))]))
            }
        } catch {
            logger.warning("could not record an Event", metadata: ["job.namespace": namespace, "job.name": name, "reason": reason, "error": "\(error)"])
        }
    }

    /// FNV-1a, hex: a stable, short name suffix per (object, reason, message).
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        return String(value, radix: 16)
    }
}
