import EndToEndKit
import Foundation
import KarbonetesModels
import Testing

extension EndToEnd {
    /// The controller under failure: killed with SIGKILL in the middle of releasing, and two
    /// replicas with leader election. Every Job must be released exactly once; the writes are
    /// counted from the API server's own watch stream, not from the controllers' word.
    @Suite("Controller failures")
    struct ResilienceScenarios {
        /// Holds `count` Jobs named `<prefix>-<n>` (not green) and returns their names.
        static func holdJobs(_ stack: EndToEndStack, prefix: String, count: Int) async throws -> [String] {
            var names: [String] = []
            for index in 0..<count {
                let name = "\(prefix)-\(index)"
                let held = try await stack.api.create(
                    try EndToEndStack.carbonAwareJob(name, namespace: "e2e", maxDelay: "3m"))
                #expect(held.isSuspended)
                names.append(name)
            }
            return names
        }

        static func releasedCount(_ stack: EndToEndStack, _ names: [String]) async throws -> Int {
            let jobs = try await stack.api.list(.jobs, namespace: "e2e")
            return jobs.filter {
                names.contains($0.name ?? "") && $0.annotation(CarbonAnnotations.state) == CarbonState.released.rawValue
            }.count
        }

        @Test("a controller killed with SIGKILL mid-release and restarted releases every Job exactly once")
        func killedMidRelease() async throws {
            try await EndToEndStack.run("kill-mid-release") { stack in
                try await stack.prepareNamespace("e2e")
                // Paced releases: a burst of 4, then one every 15 s, so that the kill lands while
                // the flip's releases are under way; the restarted controller's fresh bucket
                // releases the rest at once.
                try await stack.api.mergePatch(
                    .policies, namespace: "e2e", name: "default", ["spec": ["releaseRatePerMinute": 4]])
                try await stack.startServices()
                try await stack.setGreen(false)
                let names = try await Self.holdJobs(stack, prefix: "batch", count: 6)
                try await JobHistory.recording(stack, namespace: "e2e") { history in
                    try await stack.setGreen(true)
                    try await Eventually.check("the first release", timeout: .seconds(20), interval: .milliseconds(20))
                    {
                        try await Self.releasedCount(stack, names) >= 1
                    }
                    let controller = try #require(stack.process("controller"))
                    await controller.killHard()
                    let atKill = try await Self.releasedCount(stack, names)
                    #expect(controller.exitCode == 128 + SIGKILL)
                    try await stack.startController("controller-restarted")
                    try await Eventually.check("every Job released", timeout: .seconds(30)) {
                        try await Self.releasedCount(stack, names) == names.count
                    }
                    // Let any duplicate write land before counting.
                    try await Task.sleep(for: .seconds(2))
                    #expect(history.failure == nil)
                    for name in names {
                        #expect(
                            history.releaseWrites(of: name) == 1,
                            "Job \(name) was released \(history.releaseWrites(of: name)) times")
                        let events = try await stack.events(namespace: "e2e", object: name, reason: "Released")
                        #expect(events.count <= 1, "Job \(name) has \(events.count) Released Events")
                    }
                    #expect(
                        atKill < names.count,
                        "all \(names.count) Jobs were released before the kill: the pacing did not hold")
                }
            }
        }

        @Test(
            "of two controllers with leader election only the leader releases; when it is killed the other takes over")
        func leaderElection() async throws {
            try await EndToEndStack.run("leader-election") { stack in
                try await stack.prepareNamespace("e2e")
                try await stack.startServices(controller: false)
                try await stack.setGreen(false)
                try await stack.startController("controller-a", leaderElect: true, namespace: "e2e")
                try await stack.startController("controller-b", leaderElect: true, namespace: "e2e")
                let leaderMetric = MetricNames.Controller.isLeader
                let leader = try await Eventually.value(
                    "one leader", timeout: .seconds(20), interval: .milliseconds(250)
                ) { () async throws -> String? in
                    let a = try await stack.metric(leaderMetric, of: "controller-a")
                    let b = try await stack.metric(leaderMetric, of: "controller-b")
                    if a == 1, b == 0 { return "controller-a" }
                    if b == 1, a == 0 { return "controller-b" }
                    return nil
                }
                let follower = leader == "controller-a" ? "controller-b" : "controller-a"
                let leases = try await stack.api.list(.leases, namespace: "e2e")
                #expect(leases.count == 1)
                let firstHolder = leases.first?[path: ["spec", "holderIdentity"]]?.stringValue

                try await JobHistory.recording(stack, namespace: "e2e") { history in
                    let first = try await Self.holdJobs(stack, prefix: "first", count: 3)
                    try await stack.setGreen(true)
                    try await Eventually.check("the first Jobs released", timeout: .seconds(20)) {
                        try await Self.releasedCount(stack, first) == first.count
                    }
                    #expect(try await stack.metric(MetricNames.Controller.releases, of: leader) == Double(first.count))
                    #expect(try await stack.metric(MetricNames.Controller.releases, of: follower) == 0)

                    try await stack.setGreen(false)
                    let leaderProcess = try #require(stack.process(leader))
                    await leaderProcess.killHard()
                    let second = try await Self.holdJobs(stack, prefix: "second", count: 3)
                    try await Eventually.check(
                        "\(follower) to lead", timeout: .seconds(20), interval: .milliseconds(250)
                    ) {
                        try await stack.metric(leaderMetric, of: follower) == 1
                    }
                    try await stack.setGreen(true)
                    try await Eventually.check("the second Jobs released", timeout: .seconds(20)) {
                        try await Self.releasedCount(stack, second) == second.count
                    }
                    #expect(
                        try await stack.metric(MetricNames.Controller.releases, of: follower) == Double(second.count))
                    try await Task.sleep(for: .seconds(1))
                    #expect(history.failure == nil)
                    for name in first + second {
                        #expect(
                            history.releaseWrites(of: name) == 1,
                            "Job \(name) was released \(history.releaseWrites(of: name)) times")
                    }
                }
                let holder = try await stack.api.list(.leases, namespace: "e2e").first?[path: [
                    "spec", "holderIdentity",
                ]]?.stringValue
                #expect(holder != nil && holder != firstHolder, "the lease still names \(firstHolder ?? "nobody")")
            }
        }
    }
}
