import Foundation
import KarbonetesHTTPClient
import KarbonetesModels
import Synchronization

/// Every version of every Job in a namespace that the API server streamed while a scenario
/// ran (a watch from the list's resourceVersion), so that a scenario can count writes: how
/// many times a Job went from held to released, whoever wrote it.
public final class JobHistory: Sendable {
    /// One stored version of a Job.
    public struct Version: Sendable {
        public var type: String
        public var resourceVersion: String
        public var suspended: Bool
        public var state: String?
        public var releasedAt: String?
    }

    private let versions = Mutex<[String: [Version]]>([:])
    private let watchEnded = Mutex<String?>(nil)

    /// Runs `body` while a watch on the namespace's Jobs records into the history; the watch
    /// ends with `body`.
    public static func recording<Result: Sendable>(
        _ stack: EndToEndStack, namespace: String, _ body: (JobHistory) async throws -> Result
    ) async throws -> Result {
        let history = JobHistory()
        // The listed versions first, so the first write the watch shows has one before it.
        let (items, start) = try await stack.api.listWithVersion(.jobs, namespace: namespace)
        for item in items { history.record(type: "LISTED", item) }
        let lines = try await stack.api.watch(.jobs, namespace: namespace, resourceVersion: start)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await line in lines { history.record(line) }
                    history.watchEnded.withLock { $0 = "the server ended the watch" }
                } catch {
                    history.watchEnded.withLock { $0 = "the watch failed: \(error)" }
                }
            }
            defer { group.cancelAll() }
            return try await body(history)
        }
    }

    private func record(_ line: Data) {
        guard let event = try? KubernetesJSON.decoder.decode(JSONValue.self, from: line),
            let type = event["type"]?.stringValue, type == "ADDED" || type == "MODIFIED" || type == "DELETED",
            let object = event["object"]
        else { return }
        record(type: type, object)
    }

    func record(type: String, _ object: JSONValue) {
        guard let name = object.name else { return }
        let version = Version(
            type: type, resourceVersion: object["metadata"]?["resourceVersion"]?.stringValue ?? "",
            suspended: object.isSuspended,
            state: object.annotation(CarbonAnnotations.state),
            releasedAt: object.annotation(CarbonAnnotations.releasedAt))
        versions.withLock { $0[name, default: []].append(version) }
    }

    /// Why the watch stopped early, if it did (a count from a dead watch proves nothing).
    public var failure: String? { watchEnded.withLock { $0 } }

    public func versions(of job: String) -> [Version] { versions.withLock { $0[job] ?? [] } }

    /// How many stored versions turned the Job from held to released: each is one release
    /// write (a second release would need the Job held again first, or would show as a
    /// changed `released-at`).
    public func releaseWrites(of job: String) -> Int {
        var count = 0
        var previous: Version?
        for version in versions(of: job) {
            defer { previous = version }
            guard version.state == CarbonState.released.rawValue, let previous else { continue }
            if previous.state != CarbonState.released.rawValue || previous.releasedAt != version.releasedAt {
                count += 1
            }
        }
        return count
    }
}
