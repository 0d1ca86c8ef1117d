import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which CPUs a process's threads may run on (Linux `sched_setaffinity`), so that the
/// benchmark can give the API server a CPU of its own, as a cluster gives it its own node.
///
/// Glibc declares `sched_setaffinity` only under `_GNU_SOURCE`, which Swift's Glibc module does
/// not set, so the function is looked up by name.
enum CPUAffinity {
    private typealias SetAffinity = @convention(c) (pid_t, Int, UnsafeRawPointer) -> Int32

    /// The CPUs this machine has online.
    static var onlineCPUs: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Restricts every thread of `pid` to `cpus`. Threads started later inherit the mask of
    /// the thread that starts them, so the whole process stays there; the thread list is read
    /// twice in case one was being started during the first pass.
    static func pin(process pid: Int32, to cpus: [Int]) throws {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "sched_setaffinity") else {
            throw HarnessError.setup("sched_setaffinity is not available on this system")
        }
        let setAffinity = unsafeBitCast(symbol, to: SetAffinity.self)
        var mask = [UInt64](repeating: 0, count: 16)
        for cpu in cpus where cpu >= 0 && cpu < mask.count * 64 { mask[cpu / 64] |= 1 << UInt64(cpu % 64) }
        for _ in 0..<2 {
            let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            guard !threads.isEmpty else { throw HarnessError.setup("process \(pid) has no threads listed in /proc (has it exited?)") }
            for thread in threads.compactMap({ pid_t($0) }) {
                let result = mask.withUnsafeBytes { setAffinity(thread, $0.count, $0.baseAddress!) }
                // A thread that exited since the listing (ESRCH) is no failure.
                if result != 0, errno != ESRCH {
                    throw HarnessError.setup("sched_setaffinity(\(thread), \(cpus)) of process \(pid) failed: errno \(errno)")
                }
            }
        }
    }
}
