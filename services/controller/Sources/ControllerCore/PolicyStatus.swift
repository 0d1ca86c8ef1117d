public import Foundation
public import KarbonetesModels

/// The status the controller writes on each CarbonAwarePolicy: how many Jobs it holds, a
/// `Ready` condition and the generation seen. A pure function, so that the writer only sends a
/// merge patch when the result differs from what is there.
public enum PolicyStatus {
    public static func desired(for policy: CarbonAwarePolicy, heldJobs: Int, now: Date) -> CarbonAwarePolicyStatus {
        let existing = policy.status?.conditions?.first { $0.type == "Ready" }
        let ready = Condition(
            type: "Ready", status: "True", observedGeneration: policy.metadata.generation,
            lastTransitionTime: existing?.status == "True" ? existing?.lastTransitionTime : now,
            reason: "Reconciled", message: "\(heldJobs) Job(s) held")
        return CarbonAwarePolicyStatus(observedGeneration: policy.metadata.generation, heldJobs: heldJobs, conditions: [ready])
    }

    /// The status subresource merge patch, or `nil` when the policy already says this.
    public static func patch(for policy: CarbonAwarePolicy, heldJobs: Int, now: Date) -> JSONValue? {
        let status = desired(for: policy, heldJobs: heldJobs, now: now)
        if policy.status?.heldJobs == status.heldJobs, policy.status?.observedGeneration == status.observedGeneration,
            policy.status?.conditions?.first(where: { $0.type == "Ready" })?.status == "True"
        {
            return nil
        }
        guard let value = try? JSONValue(encoding: status) else { return nil }
        return ["status": value]
    }

    /// Held Jobs per policy key (namespace/name), counting Jobs that name no policy under
    /// `default`.
    public static func heldCounts(_ jobs: [Job]) -> [ObjectKey: Int] {
        var counts: [ObjectKey: Int] = [:]
        for job in jobs where HeldJobs.isHeld(job) {
            counts[ObjectKey(namespace: job.metadata.namespace, name: PolicyResolver.requestedPolicyName(for: job)), default: 0] += 1
        }
        return counts
    }
}
