import EndToEndKit
import Foundation
import KarbonetesModels
import Testing

extension EndToEnd {
    /// What the real `karbonetes-controller` does to held Jobs: released when the signal
    /// flips, at their deadline, or after the policy changed; with the signal service down.
    @Suite("Release by the real controller")
    struct ReleaseScenarios {
        static let greenPool = BuiltInDefaults.greenPool.name
        static let fallbackPool = BuiltInDefaults.fallbackPool.name
        static let greenTaint = BuiltInDefaults.greenPoolTaint.key

        struct FlipCase: Sendable, CustomTestStringConvertible {
            var mode: String
            var wantPreferred: [String]
            var wantRequired: [String]
            var testDescription: String { mode }
        }

        @Test(
            "a held Job stays held while the grid is not green, and is released to the green pool when the signal flips",
            arguments: [
                FlipCase(mode: "prefer", wantPreferred: [greenPool], wantRequired: []),
                FlipCase(mode: "strict", wantPreferred: [], wantRequired: [greenPool]),
            ])
        func releasedWhenGreen(_ flip: FlipCase) async throws {
            try await EndToEndStack.run("release-green-\(flip.mode)") { stack in
                try await stack.prepareNamespace("e2e", mode: flip.mode)
                try await stack.startServices()
                try await stack.setGreen(false)
                let held = try await stack.api.create(
                    try EndToEndStack.carbonAwareJob("flip", namespace: "e2e", maxDelay: "2m"))
                #expect(held.isSuspended)
                // The controller rechecks every second (recheckInterval: 1s): it must keep holding.
                try await Task.sleep(for: .seconds(2))
                let still = try await stack.api.get(.jobs, namespace: "e2e", name: "flip")
                #expect(still.isSuspended)
                #expect(still.annotation(CarbonAnnotations.state) == CarbonState.deferred.rawValue)

                try await stack.setGreen(true)
                let released = try await stack.waitForJob("flip", namespace: "e2e", "released") {
                    $0.annotation(CarbonAnnotations.state) == CarbonState.released.rawValue
                }
                #expect(!released.isSuspended)
                #expect(released.annotation(CarbonAnnotations.releaseReason) == ReleaseReason.greenWindow.rawValue)
                #expect(released.preferredNodePools == flip.wantPreferred)
                #expect(released.requiredNodePools == flip.wantRequired)
                #expect(released.tolerationKeys == [Self.greenTaint])
                #expect(released.annotation(CarbonAnnotations.releasedAt).flatMap(RFC3339.parse) != nil)
                #expect(released.label(CarbonAnnotations.managedLabel) == CarbonAnnotations.trueValue)
                try await Eventually.check("a Released Event on the Job", timeout: .seconds(10)) {
                    try await !stack.events(namespace: "e2e", object: "flip", reason: "Released").isEmpty
                }
            }
        }

        @Test(
            "a Job held past its maxDelay is released to the fallback pool with reason max-delay, without the green toleration"
        )
        func releasedAtDeadline() async throws {
            try await EndToEndStack.run("release-deadline") { stack in
                try await stack.prepareNamespace("e2e")
                try await stack.startServices()
                try await stack.setGreen(false)
                let held = try await stack.api.create(
                    try EndToEndStack.carbonAwareJob("late", namespace: "e2e", maxDelay: "4s"))
                let deadline = try #require(held.annotation(CarbonAnnotations.deadline).flatMap(RFC3339.parse))
                let released = try await stack.waitForJob("late", namespace: "e2e", "released at its deadline") {
                    $0.annotation(CarbonAnnotations.state) == CarbonState.released.rawValue
                }
                #expect(!released.isSuspended)
                #expect(released.annotation(CarbonAnnotations.releaseReason) == ReleaseReason.maxDelay.rawValue)
                #expect(released.preferredNodePools == [Self.fallbackPool])
                #expect(released.tolerationKeys.isEmpty)
                let releasedAt = try #require(released.annotation(CarbonAnnotations.releasedAt).flatMap(RFC3339.parse))
                #expect(releasedAt >= deadline.addingTimeInterval(-1))
                #expect(releasedAt <= deadline.addingTimeInterval(5))
            }
        }

        @Test(
            "a policy change reaches the controller: a Job held before the namespace's policy named another green pool is released there"
        )
        func policyChangeReachesController() async throws {
            try await EndToEndStack.run("policy-change-release") { stack in
                try await stack.prepareNamespace("e2e")
                try await stack.startServices()
                try await stack.setGreen(false)
                try await stack.api.create(
                    try EndToEndStack.carbonAwareJob("waiting", namespace: "e2e", maxDelay: "2m"))
                try await stack.api.mergePatch(
                    .policies, namespace: "e2e", name: "default", ["spec": ["greenPool": ["name": "green-spot"]]])
                try await Task.sleep(for: .seconds(1))
                try await stack.setGreen(true)
                let released = try await stack.waitForJob("waiting", namespace: "e2e", "released") {
                    $0.annotation(CarbonAnnotations.state) == CarbonState.released.rawValue
                }
                #expect(released.preferredNodePools == ["green-spot"])
                #expect(released.annotation(CarbonAnnotations.releaseReason) == ReleaseReason.greenWindow.rawValue)
            }
        }

        @Test("with the signal service down, onSignalUnavailable run lets a Job run now on the fallback pool")
        func signalDownRun() async throws {
            try await EndToEndStack.run("signal-down-run") { stack in
                try await stack.prepareNamespace("e2e", onSignalUnavailable: "run")
                // The signal service never starts: its port is reserved but nothing listens.
                try await stack.startWebhook()
                try await stack.registerWebhook()
                let stored = try await stack.api.create(try EndToEndStack.carbonAwareJob("outage", namespace: "e2e"))
                #expect(!stored.isSuspended)
                #expect(stored.annotation(CarbonAnnotations.state) == CarbonState.bypassed.rawValue)
                #expect(stored.preferredNodePools == [Self.fallbackPool])
                #expect(stored.tolerationKeys.isEmpty)
            }
        }

        @Test(
            "with the signal service down, onSignalUnavailable wait holds a Job and the controller releases it at its deadline"
        )
        func signalDownWait() async throws {
            try await EndToEndStack.run("signal-down-wait") { stack in
                try await stack.prepareNamespace("e2e", maxDelay: "4s", onSignalUnavailable: "wait")
                try await stack.startWebhook()
                try await stack.registerWebhook()
                try await stack.startController()
                let held = try await stack.api.create(
                    try EndToEndStack.carbonAwareJob("outage", namespace: "e2e", maxDelay: "4s"))
                #expect(held.isSuspended)
                #expect(held.annotation(CarbonAnnotations.state) == CarbonState.deferred.rawValue)
                let released = try await stack.waitForJob("outage", namespace: "e2e", "released at its deadline") {
                    $0.annotation(CarbonAnnotations.state) == CarbonState.released.rawValue
                }
                #expect(released.annotation(CarbonAnnotations.releaseReason) == ReleaseReason.maxDelay.rawValue)
                #expect(released.preferredNodePools == [Self.fallbackPool])
            }
        }

        @Test(
            "when the signal service dies mid-run, past the stale limit new Jobs run now on the fallback pool and held Jobs are released at their deadline"
        )
        func signalDiesMidRun() async throws {
            try await EndToEndStack.run("signal-dies") { stack in
                try await stack.prepareNamespace("e2e", maxDelay: "6s", onSignalUnavailable: "run")
                try await stack.startServices(signalStaleLimit: "1s")
                try await stack.setGreen(false)
                let held = try await stack.api.create(
                    try EndToEndStack.carbonAwareJob("held-before", namespace: "e2e", maxDelay: "6s"))
                #expect(held.isSuspended)
                try await stack.killSignal()
                // After the stale limit the webhook has no reading: `run` lets new Jobs through.
                let bypassed = try await Eventually.value(
                    "a Job admitted without a signal", timeout: .seconds(15), interval: .milliseconds(500)
                ) { () async throws -> JSONValue? in
                    let name = "after-\(UUID().uuidString.prefix(8).lowercased())"
                    let job = try await stack.api.create(try EndToEndStack.carbonAwareJob(name, namespace: "e2e"))
                    return job.annotation(CarbonAnnotations.state) == CarbonState.bypassed.rawValue ? .some(job) : .none
                }
                #expect(!bypassed.isSuspended)
                #expect(bypassed.preferredNodePools == [Self.fallbackPool])
                let released = try await stack.waitForJob("held-before", namespace: "e2e", "released at its deadline") {
                    $0.annotation(CarbonAnnotations.state) == CarbonState.released.rawValue
                }
                #expect(released.annotation(CarbonAnnotations.releaseReason) == ReleaseReason.maxDelay.rawValue)
                #expect(released.preferredNodePools == [Self.fallbackPool])
                #expect(released.tolerationKeys.isEmpty)
            }
        }

        @Test(
            "a Job its CronJob created is held, then released in place: same name and uid, ownerReference to the CronJob kept",
            .enabled(
                if: APIServerKind.selectedRunsCronJobs,
                "no CronJob controller: kube-controller-manager is not in KUBEBUILDER_ASSETS"))
        func cronJobCreatedJob() async throws {
            try await EndToEndStack.run("cronjob") { stack in
                try #require(stack.apiServer.runsCronJobs)
                try await stack.prepareNamespace("e2e")
                try await stack.startServices()
                try await stack.setGreen(false)
                var cronJob = try EndToEndStack.manifest("samples/cronjob-carbon-aware.yaml").settingName(
                    "nightly", namespace: "e2e")
                cronJob = cronJob.setting(["spec", "schedule"], to: "* * * * *")
                    .setting(["spec", "jobTemplate", "metadata", "annotations", CarbonAnnotations.maxDelay], to: "5m")
                let created = try await stack.api.create(cronJob)
                let uid = try #require(created["metadata"]?["uid"]?.stringValue)
                // A last schedule an hour ago makes the current minute's run due now, instead of
                // waiting for the next minute to begin.
                try await stack.api.mergePatchStatus(
                    .cronJobs, namespace: "e2e", name: "nightly",
                    ["status": ["lastScheduleTime": .string(RFC3339.format(Date().addingTimeInterval(-3_600)))]])
                let held = try await Eventually.value(
                    "the CronJob to create a Job", timeout: .seconds(70), interval: .milliseconds(500)
                ) {
                    try await stack.api.list(.jobs, namespace: "e2e").first { job in
                        job["metadata"]?["ownerReferences"]?[path: ["0", "uid"]]?.stringValue == uid
                    }
                }
                let name = try #require(held.name)
                #expect(held.annotation(CarbonAnnotations.cronJobScheduledTimestamp) != nil)
                try await Self.expectHeldThenReleased(stack, job: held, name: name, cronJobUID: uid)
            }
        }

        /// The CronJob scenario's checks after the CronJob created its Job: the Job went through
        /// admission (both kube-controller-manager and karbonetes-devapi's CronJob controller
        /// create Jobs through it), was held, and is released in place.
        static func expectHeldThenReleased(
            _ stack: EndToEndStack, job held: JSONValue, name: String, cronJobUID uid: String
        ) async throws {
            try #require(held.isSuspended, "the CronJob's Job was not held: the webhook did not see it")
            #expect(held.annotation(CarbonAnnotations.state) == CarbonState.deferred.rawValue)
            try await Self.expectReleasedInPlace(stack, held: held, name: name, cronJobUID: uid)
        }

        static func expectReleasedInPlace(_ stack: EndToEndStack, held: JSONValue, name: String, cronJobUID uid: String)
            async throws
        {
            try await stack.setGreen(true)
            let released = try await stack.waitForJob(name, namespace: "e2e", "released") {
                $0.annotation(CarbonAnnotations.state) == CarbonState.released.rawValue
            }
            #expect(released["metadata"]?["uid"] == held["metadata"]?["uid"])
            #expect(released["metadata"]?["ownerReferences"] == held["metadata"]?["ownerReferences"])
            #expect(released["metadata"]?["ownerReferences"]?[path: ["0", "kind"]] == "CronJob")
            #expect(released.preferredNodePools == [greenPool])
            let owned = try await stack.api.list(.jobs, namespace: "e2e").filter {
                $0["metadata"]?["ownerReferences"]?[path: ["0", "uid"]]?.stringValue == uid
            }
            #expect(owned.count == 1, "the release must not replace the Job with a new one")
        }
    }
}
