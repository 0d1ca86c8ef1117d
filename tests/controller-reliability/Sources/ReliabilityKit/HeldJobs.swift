public import Foundation
public import KarbonetesKubeClient
public import KarbonetesModels
import KarbonetesModelsTestKit
import KarbonetesYAML

/// A Job the scenario holds, as the webhook would have left it, and when it must be released
/// at the latest.
public struct HeldJobPlan: Sendable, Hashable {
    public var key: ObjectKey
    public var deadline: Date

    public init(key: ObjectKey, deadline: Date) {
        self.key = key
        self.deadline = deadline
    }
}

public enum HeldJobs {
    /// `count` plans in `namespace` whose deadlines are spread evenly over `deadlines`
    /// (whole seconds, as the webhook writes them).
    public static func plans(count: Int, namespace: String, prefix: String = "held", deadlines: ClosedRange<Date>) -> [HeldJobPlan] {
        let span = deadlines.upperBound.timeIntervalSince(deadlines.lowerBound)
        return (0..<count).map { index in
            let offset = count > 1 ? span * Double(index) / Double(count - 1) : 0
            let deadline = Date(timeIntervalSince1970: deadlines.lowerBound.addingTimeInterval(offset).timeIntervalSince1970.rounded(.up))
            return HeldJobPlan(key: ObjectKey(namespace: namespace, name: "\(prefix)-\(index)"), deadline: deadline)
        }
    }

    /// The object the webhook leaves behind: `JobFixture.carbonAware().held(until:)`.
    /// `managed: false` drops the label, so the controller never sees it (the raw-throughput
    /// Jobs of the benchmark).
    public static func object(for plan: HeldJobPlan, managed: Bool = true) -> JSONValue {
        var fixture = JobFixture.carbonAware(name: plan.key.name, namespace: plan.key.namespace ?? "default").held(until: plan.deadline)
        if !managed { fixture = fixture.labelled(CarbonAnnotations.managedLabel, "false") }
        // The API server assigns the uid.
        return fixture.setting(["metadata", "uid"], .null).json.removingNulls()
    }

    /// Creates the namespace if it is not there.
    public static func ensureNamespace(_ name: String, client: KubeClient) async throws {
        let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
        do {
            _ = try await client.create(namespace, .namespaces, namespace: nil)
        } catch let error as KubeAPIError where error.isAlreadyExists {}
    }

    /// Creates every planned Job, `parallelism` requests at a time.
    public static func create(_ plans: [HeldJobPlan], managed: Bool = true, client: KubeClient, parallelism: Int = 16) async throws {
        for namespace in Set(plans.compactMap(\.key.namespace)) { try await ensureNamespace(namespace, client: client) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var iterator = plans.makeIterator()
            func addNext() -> Bool {
                guard let plan = iterator.next() else { return false }
                group.addTask { _ = try await client.create(object(for: plan, managed: managed), .jobs, namespace: plan.key.namespace) }
                return true
            }
            for _ in 0..<parallelism where !addNext() { break }
            while try await group.next() != nil { _ = addNext() }
        }
    }

    /// Every Job in the namespaces of `plans`, by key. Retried, since the fault scenario's
    /// injected errors hit the harness's own reads too.
    public static func fetch(namespaces: Set<String>, client: KubeClient) async throws -> [ObjectKey: Job] {
        var result: [ObjectKey: Job] = [:]
        for namespace in namespaces {
            let giveUp = ContinuousClock.now + .seconds(45)
            while true {
                do {
                    let list = try await client.listAll(Job.self, .jobs, namespace: namespace, options: ListOptions(limit: 500))
                    for job in list.items { result[job.key] = job }
                    break
                } catch {
                    guard ContinuousClock.now < giveUp else {
                        throw HarnessError.request("listing the Jobs of namespace \(namespace) for 45 s (is the API server hung?)", detail: "\(error)")
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        return result
    }

    /// Installs the CarbonAwarePolicy CRD from the repository's manifests, as on a cluster
    /// (the controller's policy informer lists it).
    public static func installPolicyCRD(client: KubeClient) async throws {
        let file = Binaries.repositoryRoot + "/deploy/kustomize/base/crds/carbonawarepolicies.carbon-aware.io.yaml"
        let crd = try YAML.decode(JSONValue.self, contentsOfFile: file)
        do {
            _ = try await client.create(crd, .customResourceDefinitions, namespace: nil)
        } catch let error as KubeAPIError where error.isAlreadyExists {}
    }

    /// How many of `plans` are released now (state `released`, not suspended).
    public static func releasedCount(_ plans: [HeldJobPlan], client: KubeClient) async throws -> Int {
        let jobs = try await fetch(namespaces: Set(plans.compactMap(\.key.namespace)), client: client)
        return plans.filter { plan in jobs[plan.key].map(ReleaseAudit.isReleased) ?? false }.count
    }
}

extension JSONValue {
    /// The value without `null` members (so a fixture can drop a field it set).
    func removingNulls() -> JSONValue {
        switch self {
        case .object(let members):
            // JSONValue is ExpressibleByNilLiteral, so a bare `nil` here would be `.null` again.
            return .object(members.compactMapValues { value -> JSONValue? in value == .null ? Optional.none : value.removingNulls() })
        case .array(let items):
            return .array(items.map { $0.removingNulls() })
        default:
            return self
        }
    }
}
