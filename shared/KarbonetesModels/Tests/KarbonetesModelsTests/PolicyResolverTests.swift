import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import Testing

@Suite("Policy resolution")
struct PolicyResolverTests {
    @Test("with no policy the built-in defaults apply")
    func builtInDefaults() {
        let resolution = PolicyResolver.resolve(job: JobFixture.carbonAware().job, named: nil, fallback: nil)
        #expect(resolution.policy == ResolvedPolicy())
        #expect(resolution.policy.maxDelay == .hours(6))
        #expect(resolution.warnings.isEmpty)
    }

    @Test("the Job's annotations override the policy")
    func annotationsOverride() {
        let job = JobFixture.carbonAware().annotated(CarbonAnnotations.maxDelay, "90m").annotated(CarbonAnnotations.mode, "strict")
            .annotated(CarbonAnnotations.region, "ES").job
        let policy = PolicyFixture.policy(CarbonAwarePolicySpec(maxDelay: "12h", region: "NO", mode: "prefer", strategy: "forecast"))
        let resolved = PolicyResolver.resolve(job: job, named: nil, fallback: policy).policy
        #expect(resolved.maxDelay == .minutes(90))
        #expect(resolved.mode == .strict)
        #expect(resolved.region == "ES")
        #expect(resolved.strategy == .forecast)
        #expect(resolved.policyName == "default")
    }

    @Test("a named policy that does not exist falls back to default, with a warning naming it")
    func missingNamedPolicy() {
        let job = JobFixture.carbonAware().annotated(CarbonAnnotations.policy, "nightly").job
        let fallback = PolicyFixture.policy(CarbonAwarePolicySpec(maxDelay: "1h"))
        let resolution = PolicyResolver.resolve(job: job, named: nil, fallback: fallback)
        #expect(resolution.policy.maxDelay == .hours(1))
        #expect(resolution.warnings == ["CarbonAwarePolicy \"nightly\" not found in namespace \"batch\"; using policy \"default\""])
    }

    @Test("bad policy values fall back to built-in defaults, each with a warning", arguments: [
        (CarbonAwarePolicySpec(maxDelay: "soon"), "spec.maxDelay"),
        (CarbonAwarePolicySpec(maxDelay: "0s"), "must be more than zero"),
        (CarbonAwarePolicySpec(mode: "maybe"), "unknown spec.mode \"maybe\""),
        (CarbonAwarePolicySpec(strategy: "magic"), "unknown spec.strategy"),
        (CarbonAwarePolicySpec(onSignalUnavailable: "panic"), "unknown spec.onSignalUnavailable"),
        (CarbonAwarePolicySpec(greenThreshold: -5), "greenThreshold"),
        (CarbonAwarePolicySpec(releaseRatePerMinute: -1), "releaseRatePerMinute"),
    ])
    func badPolicyValues(_ pair: (CarbonAwarePolicySpec, String)) {
        let resolution = PolicyResolver.resolve(job: JobFixture.carbonAware().job, named: nil, fallback: PolicyFixture.policy(pair.0))
        var expected = ResolvedPolicy()
        expected.policyName = "default"
        #expect(resolution.policy == expected)
        #expect(resolution.warnings.count == 1)
        #expect(resolution.warnings.first?.contains(pair.1) == true, "\(resolution.warnings)")
    }

    @Test("a custom green pool keeps the default taint unless it names its own")
    func customGreenPool() {
        let policy = PolicyFixture.policy(CarbonAwarePolicySpec(greenPool: NodePoolTarget(name: "solar"), fallbackPool: NodePoolTarget(name: "spot", taint: Taint(key: "spot", effect: "NoSchedule"))))
        let resolved = PolicyResolver.resolve(job: JobFixture.carbonAware().job, named: nil, fallback: policy).policy
        #expect(resolved.greenPool == PoolDirective(name: "solar", taint: BuiltInDefaults.greenPoolTaint))
        #expect(resolved.fallbackPool == PoolDirective(name: "spot", taint: Taint(key: "spot", effect: "NoSchedule")))
    }
}

@Suite("Policy lookup")
struct PolicyLookupTests {
    @Test("a Job naming a policy gets it; the namespace's default is the fallback; other namespaces do not leak")
    func lookup() {
        let nightly = PolicyFixture.policy(name: "nightly", CarbonAwarePolicySpec(maxDelay: "12h"))
        let fallback = PolicyFixture.policy(CarbonAwarePolicySpec(maxDelay: "2h"))
        let elsewhere = PolicyFixture.policy(name: "default", namespace: "other", CarbonAwarePolicySpec(maxDelay: "1m"))
        let policies = StaticPolicies([nightly, fallback, elsewhere])
        let named = JobFixture.carbonAware().annotated(CarbonAnnotations.policy, "nightly").job
        #expect(PolicyResolver.resolve(job: named, policies: policies).policy.maxDelay == .hours(12))
        #expect(PolicyResolver.resolve(job: JobFixture.carbonAware().job, policies: policies).policy.maxDelay == .hours(2))
        let missing = JobFixture.carbonAware().annotated(CarbonAnnotations.policy, "gone").job
        #expect(PolicyResolver.resolve(job: missing, policies: policies).policy.maxDelay == .hours(2))
        #expect(PolicyResolver.resolve(job: JobFixture.carbonAware(namespace: "third").job, policies: policies).policy.maxDelay == BuiltInDefaults.maxDelay)
    }
}
