% expect: 8 Call a dotted function of one of the kernel libraries torch, liger_kernel
entity(hostile_peer).
component(hostile_peer, kind, elementwise).
component(hostile_peer, doc, "A benchmark peer that would run a shell command.").
component(hostile_peer, input, x).
component(hostile_peer, output, y).
component(hostile_peer, forward, y = x * 2).
component(hostile_peer, bench_peer, shell = 'os.system'("rm -rf /")).
