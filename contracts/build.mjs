// Compile contracts/*.sol with solc-js (npm `solc`) into build/contracts/<Name>.json.
//
// One standard-JSON compilation of every source file, optimizer on, EVM version
// set explicitly (never the compiler's default, which follows the newest fork).
// Each artifact holds the ABI, creation bytecode and deployed bytecode of one
// contract; artifacts are build outputs and are never committed.
//
// Usage: node contracts/build.mjs [outDir]     (default: build/contracts)
// Env:   PJGW_EVM_VERSION  target fork (default: cancun, see docs/evm-bridge.md)

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const solc = require('solc')

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '..')
const outDir = resolve(root, process.argv[2] ?? 'build/contracts')
const evmVersion = process.env.PJGW_EVM_VERSION ?? 'cancun'
const OPTIMIZER_RUNS = 200
const MAX_RUNTIME_BYTES = 24576 // EIP-170: a chain refuses to deploy anything larger

const sources = {}
for (const file of readdirSync(here).filter((f) => f.endsWith('.sol')).sort()) {
  sources[file] = { content: readFileSync(join(here, file), 'utf8') }
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    evmVersion,
    optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
    metadata: { bytecodeHash: 'none' },
    outputSelection: {
      '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
    },
  },
}

// Imports are relative to contracts/ only: nothing is read from elsewhere.
function findImports(path) {
  try {
    return { contents: readFileSync(join(here, path), 'utf8') }
  } catch {
    return { error: `import not found: ${path}` }
  }
}

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }))
const problems = output.errors ?? []
for (const problem of problems) {
  console.error(problem.formattedMessage ?? problem.message)
}
// Warnings fail the build too: they are cheap to fix now and easy to miss later.
if (problems.some((p) => p.severity === 'error' || p.severity === 'warning')) {
  process.exit(1)
}

rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
let count = 0
for (const [source, contracts] of Object.entries(output.contracts ?? {})) {
  for (const [name, compiled] of Object.entries(contracts)) {
    const bytecode = compiled.evm.bytecode.object
    // Interfaces and abstract contracts have no bytecode; internal-only libraries no ABI.
    if (!bytecode || compiled.abi.length === 0) continue
    const runtimeBytes = compiled.evm.deployedBytecode.object.length / 2
    if (runtimeBytes > MAX_RUNTIME_BYTES) {
      console.error(`${name}: runtime code of ${runtimeBytes} bytes exceeds EIP-170's ${MAX_RUNTIME_BYTES}`)
      process.exit(1)
    }
    const artifact = {
      contractName: name,
      sourceName: source,
      compiler: { name: 'solc-js', version: solc.version(), evmVersion, optimizerRuns: OPTIMIZER_RUNS },
      abi: compiled.abi,
      bytecode: `0x${bytecode}`,
      deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
    }
    writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(artifact, null, 2)}\n`)
    count += 1
    console.log(`${name}: ${bytecode.length / 2} bytes creation, ${runtimeBytes} bytes runtime`)
  }
}
console.log(`compiled ${count} contracts with solc ${solc.version()} for evm ${evmVersion} into ${outDir}`)
