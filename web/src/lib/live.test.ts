import { describe, expect, it } from 'vitest'
import { debounce, eventConcerns, parseSubmissionEvent } from './debounce'
import { consoleNav, reviewLevel, stateAwaiting } from './nav'

function fakeTimers() {
  let now = 0
  const q: Array<{ at: number; f: () => void; id: number }> = []
  let next = 1
  return {
    set: (f: () => void, ms: number) => {
      const id = next++
      q.push({ at: now + ms, f, id })
      return id
    },
    clear: (h: unknown) => {
      const i = q.findIndex((x) => x.id === h)
      if (i >= 0) q.splice(i, 1)
    },
    advance(ms: number) {
      now += ms
      for (const x of [...q].sort((a, b) => a.at - b.at)) {
        if (x.at <= now) {
          q.splice(q.indexOf(x), 1)
          x.f()
        }
      }
    },
  }
}

describe('debounce of event-driven refetches', () => {
  it('runs once, 300 ms after the last of a burst', () => {
    const t = fakeTimers()
    let runs = 0
    const d = debounce(() => runs++, 300, t)
    d.call()
    t.advance(100)
    d.call()
    t.advance(100)
    d.call()
    t.advance(299)
    expect(runs).toBe(0)
    expect(d.pending()).toBe(true)
    t.advance(1)
    expect(runs).toBe(1)
    expect(d.pending()).toBe(false)
  })
  it('flush runs a pending call now; cancel drops it', () => {
    const t = fakeTimers()
    let runs = 0
    const d = debounce(() => runs++, 300, t)
    d.call()
    d.flush()
    expect(runs).toBe(1)
    d.call()
    d.cancel()
    t.advance(1000)
    expect(runs).toBe(1)
  })
})

describe('submission events', () => {
  it('parses the data and filters by form and period', () => {
    const ev = parseSubmissionEvent('{"seq":3,"unit_id":1,"form":"B204-1","period":"2026M11","region":"430202001000","state":"submitted"}')
    expect(ev?.seq).toBe(3)
    expect(eventConcerns(ev, 'B204-1', '2026M11')).toBe(true)
    expect(eventConcerns(ev, 'B204-1', '2026M10')).toBe(false)
    expect(eventConcerns(ev, '202-1', '2026M11')).toBe(false)
    expect(parseSubmissionEvent('not json')).toBeNull()
    expect(parseSubmissionEvent('[1]')).toBeNull()
    expect(eventConcerns(null, 'B204-1', '2026M11')).toBe(true)
  })
})

describe('console navigation by role', () => {
  it('staff see every item, leaders the monitor, the summary and the releases, publishers the releases, enterprises none', () => {
    expect(consoleNav('township').map((i) => i.path)).toEqual([
      '/console/monitor',
      '/console/summary',
      '/console/review',
      '/console/units',
      '/console/reminders',
    ])
    expect(consoleNav('leader').map((i) => i.path)).toEqual([
      '/console/monitor',
      '/console/summary',
      '/console/releases',
      '/console/documents',
    ])
    expect(consoleNav('publisher').map((i) => i.path)).toEqual(['/console/releases', '/console/documents'])
    expect(consoleNav('city').map((i) => i.path)).toContain('/console/releases')
    expect(consoleNav('county').map((i) => i.path)).not.toContain('/console/releases')
    expect(consoleNav('enterprise')).toEqual([])
    expect(consoleNav(null)).toEqual([])
  })
  it('maps roles to review levels and the state they work on', () => {
    expect([reviewLevel('township'), reviewLevel('county'), reviewLevel('city'), reviewLevel('admin'), reviewLevel('leader')]).toEqual([
      'review',
      'approve',
      'accept',
      'accept',
      null,
    ])
    expect(stateAwaiting('county')).toBe('reviewed')
  })
})
