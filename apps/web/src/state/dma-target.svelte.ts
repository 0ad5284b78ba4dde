/**
 * Where the DMA forms aim: a device of the shown lab (the first one, when the chosen one goes away) and,
 * for a device bound for SVA, its PASID and its process's first VMA, where SVA faults happen. The aim is
 * set once per device and bond, so what the user types afterwards stays. Call during a component's setup.
 */
import { labStore } from './lab.svelte';

export interface DmaTarget {
  device: () => string;
  setDevice: (device: string) => void;
  /** The bound PASID (or none) and the address to aim at (when the device has an SVA bond). */
  aim: (pasid: number | null, address: string | undefined) => void;
}

export function followDmaTarget(target: DmaTarget) {
  const devices = $derived(labStore.system?.devices ?? []);
  $effect(() => {
    if (!devices.some((d) => d.id === target.device())) target.setDevice(devices[0]?.id ?? '');
  });
  let aimedFor = '';
  $effect(() => {
    const device = target.device();
    const bond = devices.find((d) => d.id === device)?.bonds[0];
    const key = `${device}/${bond?.pasid ?? ''}`;
    if (key === aimedFor) return;
    aimedFor = key;
    const vma = labStore.system?.processes.find((p) => p.id === bond?.process)?.vmas[0];
    target.aim(bond?.pasid ?? null, vma?.address);
  });
  return { devices: () => devices };
}
