/// Where the services find CarbonAwarePolicies: an informer's cache in production (no API
/// call per admission or reconcile), a fixed set in tests.
public protocol PolicyLookup: Sendable {
    func policy(namespace: String, name: String) -> CarbonAwarePolicy?
    /// False until the cache has synced; readiness reports it, so that no replica decides with
    /// built-in defaults just because it has not read the policies yet.
    var isSynced: Bool { get }
}

/// A fixed set of policies, for tests and for running without an API server.
public struct StaticPolicies: PolicyLookup {
    private let policies: [ObjectKey: CarbonAwarePolicy]

    public init(_ policies: [CarbonAwarePolicy] = []) {
        var byKey: [ObjectKey: CarbonAwarePolicy] = [:]
        for policy in policies { byKey[policy.key] = policy }
        self.policies = byKey
    }

    public func policy(namespace: String, name: String) -> CarbonAwarePolicy? {
        policies[ObjectKey(namespace: namespace, name: name)]
    }

    public var isSynced: Bool { true }
}

extension PolicyResolver {
    /// Resolves with the policy the Job names (or `default`) and the namespace's `default`
    /// policy as the fallback, looked up in `policies`.
    public static func resolve(job: Job, policies: some PolicyLookup) -> Resolution {
        let namespace = job.metadata.namespace ?? "default"
        let requested = requestedPolicyName(for: job)
        let named = policies.policy(namespace: namespace, name: requested)
        let fallback = requested == CarbonAwarePolicy.defaultName ? named : policies.policy(namespace: namespace, name: CarbonAwarePolicy.defaultName)
        return resolve(job: job, named: named, fallback: fallback)
    }
}
